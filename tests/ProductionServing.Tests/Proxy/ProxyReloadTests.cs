using System.Net;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>A reload swaps upstream groups without dropping the requests in flight, and keeps what it does not change.</summary>
public sealed class ProxyReloadTests
{
    [Fact]
    public async Task Reload_SendsNewRequestsToTheNewServers_WhileARequestInFlightCompletes()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var old = await UpstreamHost.StartAsync(async context =>
        {
            arrived.TrySetResult();
            await release.Task;
            await context.Response.WriteAsync("old");
        });
        await using var replacement = await UpstreamHost.NamedAsync("new");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", "", old.Address)));

        var inFlight = host.Client.GetStringAsync("/slow");
        await arrived.Task.WaitAsync(TestTimeouts.Wait);
        host.Reload(("ProductionServing:Upstreams:backend:Servers:0:Address", replacement.Address));
        var after = await host.Client.GetStringAsync("/next");
        release.SetResult();

        Assert.Equal("new", after);
        Assert.Equal("old", await inFlight.WaitAsync(TestTimeouts.Wait));
    }

    [Fact]
    public async Task Reload_KeepsAServerOut_WhenItStaysInTheGroup()
    {
        // Passive health state belongs to (group, address): an unrelated change must not bring a failed server back.
        await using var healthy = await UpstreamHost.NamedAsync("healthy");
        var refusing = RawUpstream.RefusingAddress();
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", "\"MaxFails\": 1, \"FailTimeout\": \"00:10:00\"", refusing, healthy.Address)));
        Assert.Equal("healthy", await host.Client.GetStringAsync("/a")); // refused, retried: the refusing server is out now

        host.Reload(("ProductionServing:Locations:1:Match", "= /other"), ("ProductionServing:Locations:1:App:Pool", null));
        Assert.StartsWith("1|= /other|App", await host.Client.GetStringAsync("/other"), StringComparison.Ordinal); // the reload took effect
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("healthy", await host.Client.GetStringAsync("/b"));
        }

        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 3001);
    }

    [Fact]
    public async Task Reload_AddingAProxyLocation_TakesEffect()
    {
        await using var upstream = await UpstreamHost.NamedAsync("proxied");
        await using var host = await ServingHost.StartAsync(ServingJson.Config("""{ "Match": "= /other", "App": {} }"""));
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/x")).StatusCode);
        Assert.Equal(1, host.AppInvocations);

        host.Reload(("ProductionServing:Locations:1:Match", "/api/"), ("ProductionServing:Locations:1:Proxy:Pass", upstream.Address));

        Assert.Equal("proxied", await host.Client.GetStringAsync("/api/x"));
        Assert.Equal(1, host.AppInvocations);
    }
}
