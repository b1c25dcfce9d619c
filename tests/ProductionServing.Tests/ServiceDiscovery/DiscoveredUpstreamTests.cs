using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;
using ProductionServing.Tests.Status;

namespace ProductionServing.Tests.ServiceDiscovery;

/// <summary>
/// An upstream's <c>Discover</c> through the companion package and Microsoft.Extensions.ServiceDiscovery's
/// configuration provider: the servers follow the <c>Services</c> section while serving, as a reload would
/// change them (requests in flight finish, servers that stay keep their health).
/// </summary>
public sealed class DiscoveredUpstreamTests
{
    private const string Catalog = "\"catalog\": { \"Discover\": \"http://catalog\", \"MaxFails\": 1, \"FailTimeout\": \"00:10:00\" }";

    [Fact]
    public async Task DiscoveredServers_AreBalancedLikeListedOnes()
    {
        await using var a = await UpstreamHost.NamedAsync("a");
        await using var b = await UpstreamHost.NamedAsync("b");
        await using var host = await StartAsync(out _, a.Address, b.Address);

        string[] answers = [await Get(host), await Get(host), await Get(host), await Get(host)];

        // Round robin over the two, in the order of their addresses (the discovery sorts them, so an answer
        // that only reorders the same servers is no change).
        string[] expected = string.CompareOrdinal(a.Address, b.Address) < 0 ? ["a", "b", "a", "b"] : ["b", "a", "b", "a"];
        Assert.Equal(expected, answers);
        Assert.Equal(new[] { Authority(a), Authority(b) }.Order(StringComparer.Ordinal), ServerNames(host).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnAddedServer_StartsTakingRequests_AndARemovedOne_GetsNoNewOnes()
    {
        await using var a = await UpstreamHost.NamedAsync("a");
        await using var b = await UpstreamHost.NamedAsync("b");
        await using var c = await UpstreamHost.NamedAsync("c");
        await using var host = await StartAsync(out var services, a.Address, b.Address);

        services.Set(a.Address, b.Address, c.Address);
        await Poll.UntilAsync(() => ServerNames(host).Count == 3, "the added server in the group");
        var afterAdding = new[] { await Get(host), await Get(host), await Get(host) };
        Assert.Contains("c", afterAdding);

        services.Set(a.Address, c.Address);
        await Poll.UntilAsync(() => !ServerNames(host).Contains(Authority(b)), "the removed server out of the group");
        for (var i = 0; i < 6; i++)
        {
            Assert.NotEqual("b", await Get(host));
        }
    }

    [Fact]
    public async Task ARequestInFlight_ToAServerThatDisappears_CompletesNormally()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var leaving = await UpstreamHost.StartAsync(async context =>
        {
            arrived.TrySetResult();
            await release.Task;
            await context.Response.WriteAsync("leaving");
        });
        await using var staying = await UpstreamHost.NamedAsync("staying");
        await using var host = await StartAsync(out var services, leaving.Address, staying.Address);

        // Round robin over the two (in the order of their addresses): of two requests one goes to the leaving server.
        Task<HttpResponseMessage> inFlight;
        for (var attempt = 0; ; attempt++)
        {
            inFlight = host.Client.GetAsync("/held");
            if (await Task.WhenAny(arrived.Task, inFlight).WaitAsync(TestTimeouts.Wait) == arrived.Task)
            {
                break;
            }

            (await inFlight).Dispose();
            Assert.True(attempt < 1, "neither request reached the leaving server");
        }

        services.Set(staying.Address);
        await Poll.UntilAsync(() => ServerNames(host).Count == 1, "the leaving server out of the group");
        Assert.Equal("staying", await Get(host));
        release.SetResult();

        using var response = await inFlight.WaitAsync(TestTimeouts.Wait);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("leaving", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AServerThatStays_KeepsItsHealth_AcrossAnUnrelatedChange()
    {
        // Passive health belongs to (group, address), as across a reload: a new endpoint elsewhere must not bring a failed server back.
        var refusing = RawUpstream.RefusingAddress();
        await using var healthy = await UpstreamHost.NamedAsync("healthy");
        await using var added = await UpstreamHost.NamedAsync("added");
        await using var host = await StartAsync(out var services, refusing, healthy.Address);
        Assert.Equal("healthy", await Get(host)); // refused, retried: the refusing server is out now
        var before = Servers(host).Single(s => s.Name == new Uri(refusing).Authority);

        services.Set(refusing, healthy.Address, added.Address);
        await Poll.UntilAsync(() => ServerNames(host).Count == 3, "the added server in the group");

        Assert.Same(before, Servers(host).Single(s => s.Name == before.Name));
        for (var i = 0; i < 4; i++)
        {
            Assert.NotEqual(HttpStatusCode.BadGateway, (await host.Client.GetAsync("/b")).StatusCode);
        }

        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 3001);

        // The status page lists discovered servers as it lists configured ones.
        var group = (await host.Client.StatusAsync()).Entry("upstreams", "name", "catalog");
        Assert.False(group.Entry("servers", "address", new Uri(refusing).Authority).GetProperty("healthy").GetBoolean());
        Assert.True(group.Entry("servers", "address", Authority(added)).GetProperty("healthy").GetBoolean());
    }

    [Fact]
    public async Task ADiscoveryChange_IsLogged_WithTheServers()
    {
        await using var a = await UpstreamHost.NamedAsync("a");
        await using var b = await UpstreamHost.NamedAsync("b");
        await using var host = await StartAsync(out var services, a.Address);

        services.Set(a.Address, b.Address);

        var logged = await Poll.ForAsync(() => host.Logs.GetSnapshot().LastOrDefault(r => r.Id.Id == 3015 && r.Message.Contains(Authority(b), StringComparison.Ordinal)),
            "the UpstreamServersDiscovered record of the change");
        var servers = string.Join(", ", new[] { "http://" + Authority(a), "http://" + Authority(b) }.Order(StringComparer.Ordinal));
        Assert.Equal($"Upstream catalog (http://catalog) has 2 discovered servers now: {servers}.", logged.Message);
    }

    [Fact]
    public async Task AFailedResolution_IsLogged_AndKeepsTheLastServers()
    {
        await using var a = await UpstreamHost.NamedAsync("a");
        await using var host = await StartAsync(out var services, a.Address);
        var before = Servers(host);

        services.SetInvalid();

        var logged = await Poll.ForAsync(() => host.Logs.GetSnapshot().FirstOrDefault(r => r.Id.Id == 3201), "the DiscoveryFailed record");
        Assert.StartsWith("Discovering http://catalog failed; its last known servers stay in force", logged.Message, StringComparison.Ordinal);
        Assert.Same(before, Servers(host));
        Assert.Equal("a", await Get(host));
    }

    private static Task<ServingHost> StartAsync(out ServicesConfiguration services, params string[] addresses)
    {
        ServicesConfiguration? source = null;
        var started = ServingHost.StartAsync(
            ServingJson.Config(ServingJson.ProxyLocation("/", "http://catalog"), Catalog, section: StatusTestClient.Section()),
            beforeServing: app => source = ServicesConfiguration.AddTo((IConfigurationBuilder)app.Configuration, "catalog", addresses),
            services: s => s.AddProductionServingServiceDiscovery());
        services = source!;
        return started;
    }

    private static Task<string> Get(ServingHost host) => host.Client.GetStringAsync("/x");

    private static string Authority(UpstreamHost upstream) => new Uri(upstream.Address).Authority;

    private static IReadOnlyList<UpstreamServer> Servers(ServingHost host) =>
        host.App.Services.GetRequiredService<UpstreamRegistry>().Groups.Single(g => g.Name == "catalog").Servers;

    private static List<string> ServerNames(ServingHost host) => [.. Servers(host).Select(s => s.Name)];
}
