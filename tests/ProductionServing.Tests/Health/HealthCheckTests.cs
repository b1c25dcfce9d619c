using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Health;

/// <summary>
/// <c>AddHealthChecks().AddProductionServing()</c> through <c>MapHealthChecks</c>, as a client (a Kubernetes
/// probe) sees it: the three checks tagged <c>ready</c>, each turning its state into the status code
/// (200 for Healthy and Degraded, 503 for Unhealthy) with its data naming what is wrong.
/// </summary>
public sealed class HealthCheckTests
{
    [Fact]
    public async Task Ready_RunsTheThreeChecks_AllHealthy_AndLivenessRunsNone()
    {
        await using var host = await StartAsync(ServingJson.Config("""{ "Match": "/", "App": {} }"""));

        var (status, report) = await ReadyAsync(host);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        Assert.Equal(["productionserving-pools", "productionserving-shutdown", "productionserving-upstreams"],
            report.GetProperty("entries").EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal).ToArray());
        using var live = await host.Client.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", await live.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PoolRejecting_IsDegraded_NamingThePool_UntilTheWindowPasses()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartAsync(
            ServingJson.Config("""{ "Match": "/", "App": { "Pool": "small" } }""", pools: """ "small": { "MaxConcurrency": 1, "QueueLimit": 0 } """),
            time,
            hold: async context =>
            {
                arrived.TrySetResult();
                await release.Task.WaitAsync(context.RequestAborted);
            });

        var held = host.Client.GetAsync(new Uri("/hold", UriKind.Relative));
        await arrived.Task.WaitAsync(TestTimeouts.Wait);
        using (var rejected = await host.Client.GetAsync(new Uri("/x", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        }

        var (status, report) = await ReadyAsync(host);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Degraded", report.GetProperty("status").GetString());
        var pools = report.GetProperty("entries").GetProperty("productionserving-pools");
        Assert.Equal("Degraded", pools.GetProperty("status").GetString());
        Assert.StartsWith("rejecting (QueueFull); running 1 of 1, queued 0 of 0", pools.GetProperty("data").GetProperty("small").GetString(), StringComparison.Ordinal);

        release.SetResult();
        (await held).Dispose();
        time.Advance(TimeSpan.FromSeconds(21));
        Assert.Equal("Healthy", (await ReadyAsync(host)).Report.GetProperty("status").GetString());
    }

    [Fact]
    public async Task UpstreamWithSomeServersDown_IsDegraded_AndWithAllDown_Unhealthy()
    {
        await using var live = await UpstreamHost.NamedAsync("live");
        var dead = RawUpstream.RefusingAddress();
        string[] allDead = [RawUpstream.RefusingAddress(), RawUpstream.RefusingAddress()];
        await using var host = await StartAsync(ServingJson.Config(
            """
            { "Match": "/some/", "Proxy": { "Pass": "http://some" } },
            { "Match": "/none/", "Proxy": { "Pass": "http://none" } }
            """,
            upstreams: string.Join(", ",
                ServingJson.Upstream("some", "", dead, live.Address),
                ServingJson.Upstream("none", "", allDead))));

        // A refused server fails once (MaxFails 1 by default) and is out for FailTimeout; the request moves
        // on to the next. (A group of one server is never taken out, as in nginx: "none" has two.)
        for (var i = 0; i < 2; i++)
        {
            using var response = await host.Client.GetAsync(new Uri("/some/x", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (status, report) = await ReadyAsync(host);
        var upstreams = report.GetProperty("entries").GetProperty("productionserving-upstreams");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Degraded", upstreams.GetProperty("status").GetString());
        Assert.Equal("down: " + new Uri(dead).Authority, upstreams.GetProperty("data").GetProperty("some").GetString());

        using (var response = await host.Client.GetAsync(new Uri("/none/x", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        (status, report) = await ReadyAsync(host);
        upstreams = report.GetProperty("entries").GetProperty("productionserving-upstreams");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", upstreams.GetProperty("status").GetString());
        Assert.Contains("none", upstreams.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("down: " + string.Join(", ", allDead.Select(a => new Uri(a).Authority)), upstreams.GetProperty("data").GetProperty("none").GetString());
    }

    [Fact]
    public async Task Stopping_WithADrainDelay_FailsReadinessAtOnce_ServesThroughTheDelay_ThenStopsAccepting()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(
            ServingJson.Config("""{ "Match": "/", "App": {} }""", section: """ "Shutdown": { "DrainDelay": "00:00:30" } """), time);

        var stopping = host.App.StopAsync();
        await Poll.UntilAsync(async () => (await ReadyAsync(host)).Status == HttpStatusCode.ServiceUnavailable, "readiness failing");
        var (_, report) = await ReadyAsync(host);
        Assert.Equal("Unhealthy", report.GetProperty("entries").GetProperty("productionserving-shutdown").GetProperty("status").GetString());

        // Through the delay the server accepts new connections and the pools run what arrives.
        using (var client = new HttpClient { BaseAddress = host.Client.BaseAddress, Timeout = TestTimeouts.Wait })
        using (var response = await client.GetAsync(new Uri("/during", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.EndsWith("|/during", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.False(stopping.IsCompleted);
        await Poll.UntilAsync(() =>
        {
            // The delay's timer is created just after readiness turns: advance until it has run.
            time.Advance(TimeSpan.FromSeconds(30));
            return stopping.IsCompleted;
        }, "the host stopped after the drain delay");
        await stopping;

        using var after = new HttpClient { BaseAddress = host.Client.BaseAddress, Timeout = TestTimeouts.Wait };
        await Assert.ThrowsAsync<HttpRequestException>(() => after.GetAsync(new Uri("/after", UriKind.Relative)));
    }

    [Fact]
    public async Task NegativeDrainDelay_IsAStartupError_NamingTheKey()
    {
        var failures = TestConfig.Failures(ServingJson.Config("""{ "Match": "/", "App": {} }""", section: """ "Shutdown": { "DrainDelay": "-00:00:01" } """));

        Assert.Contains(failures, f => f.StartsWith("Shutdown.DrainDelay: must not be negative", StringComparison.Ordinal));
    }

    /// <summary>
    /// A host with the checks, <c>/ready</c> (tag <c>ready</c>, answered as JSON with each entry's status,
    /// description and data) and <c>/healthz</c> (no checks: liveness), both outside the pools, as a
    /// probe must get through an overloaded pool; <paramref name="hold"/> answers <c>/hold</c> in the app.
    /// </summary>
    private const string ProbeLocations =
        """
        "Locations": [ { "Match": "= /ready", "App": { "Pool": null } }, { "Match": "= /healthz", "App": { "Pool": null } },
        """;

    private static Task<ServingHost> StartAsync(string json, FakeTimeProvider? time = null, RequestDelegate? hold = null) =>
        ServingHost.StartAsync(
            json.Replace("\"Locations\": [", ProbeLocations, StringComparison.Ordinal),
            afterServing: app =>
            {
                app.UseRouting();
                app.MapHealthChecks("/ready", new HealthCheckOptions { Predicate = static check => check.Tags.Contains("ready"), ResponseWriter = WriteJsonAsync });
                app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = static _ => false });
                if (hold is not null)
                {
                    app.Map("/hold", hold);
                }

                app.UseEndpoints(static _ => { });
            },
            services: services =>
            {
                services.AddHealthChecks().AddProductionServing();
                if (time is not null)
                {
                    services.AddSingleton<TimeProvider>(time);
                }
            });

    private static async Task<(HttpStatusCode Status, JsonElement Report)> ReadyAsync(ServingHost host)
    {
        using var response = await host.Client.GetAsync(new Uri("/ready", UriKind.Relative));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    private static Task WriteJsonAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            entries = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data,
            }),
        }));
    }
}
