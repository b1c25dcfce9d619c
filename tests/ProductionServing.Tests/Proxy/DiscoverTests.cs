using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Primitives;
using ProductionServing.Discovery;
using ProductionServing.Health;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// The core's side of <c>Discover</c>, through its extension point with a discovery the test drives: a group
/// with no server known answers 502 and is Unhealthy, and a change of servers takes effect without a reload.
/// </summary>
public sealed class DiscoverTests
{
    private const string Json = """{ "ProductionServing": { "Locations": [ { "Match": "/", "Proxy": { "Pass": "http://catalog" } } ], "Upstreams": { "catalog": { "Discover": "http://catalog" } } } }""";

    [Fact]
    public async Task NoServerDiscovered_Answers502_UntilOneIs()
    {
        await using var upstream = await UpstreamHost.NamedAsync("found");
        using var discovery = new TestDiscovery();
        await using var host = await ServingHost.StartAsync(Json, services: s => s.AddSingleton<IUpstreamDiscovery>(discovery));

        Assert.Equal(HttpStatusCode.BadGateway, (await host.Client.GetAsync("/x")).StatusCode);
        Assert.Equal(HealthStatus.Unhealthy, (await UpstreamsHealth(host)).Status);

        discovery.Set(upstream.Address);
        await Poll.UntilAsync(async () => (await host.Client.GetAsync("/x")).StatusCode == HttpStatusCode.OK, "the discovered server answering");
        Assert.Equal("found", await host.Client.GetStringAsync("/x"));
        Assert.Equal(HealthStatus.Healthy, (await UpstreamsHealth(host)).Status);

        discovery.Set();
        await Poll.UntilAsync(async () => (await host.Client.GetAsync("/x")).StatusCode == HttpStatusCode.BadGateway, "502 once no server is left");
    }

    [Fact]
    public async Task ADiscoveryChange_KeepsTheConnectionPool_AndTheOptions()
    {
        await using var a = await UpstreamHost.NamedAsync("a");
        await using var b = await UpstreamHost.NamedAsync("b");
        using var discovery = new TestDiscovery();
        discovery.Set(a.Address);
        await using var host = await ServingHost.StartAsync(Json, services: s => s.AddSingleton<IUpstreamDiscovery>(discovery));
        Assert.Equal("a", await host.Client.GetStringAsync("/x"));
        var before = Group(host);

        discovery.Set(a.Address, b.Address);
        var after = await Poll.ForAsync(() => Group(host) is { Servers.Count: 2 } group ? group : null, "the group rebuilt with both servers");

        Assert.NotSame(before, after);
        Assert.Same(before.Transport, after.Transport);
        Assert.Same(before.Servers[0], after.Servers[0]);
        Assert.Equal(1, after.Servers[1].Weight);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Id.Id is 1002 or 1003); // not a configuration reload, and nothing refused
    }

    private static UpstreamGroup Group(ServingHost host) =>
        host.App.Services.GetRequiredService<UpstreamRegistry>().Groups.Single(g => g.Name == "catalog");

    private static Task<HealthCheckResult> UpstreamsHealth(ServingHost host) =>
        new UpstreamsHealthCheck(host.App.Services.GetRequiredService<UpstreamRegistry>()).CheckHealthAsync(new HealthCheckContext());

    /// <summary>A discovery whose servers the test sets; each change fires the last answer's token.</summary>
    private sealed class TestDiscovery : IUpstreamDiscovery, IDisposable
    {
        private readonly Lock _lock = new();
        private CancellationTokenSource _changed = new();
        private DiscoveredEndpoints _current;

        public TestDiscovery() => _current = new DiscoveredEndpoints([], new CancellationChangeToken(_changed.Token));

        public DiscoveredEndpoints GetEndpoints(string discover)
        {
            Assert.Equal("http://catalog", discover);
            return Volatile.Read(ref _current);
        }

        public void Set(params string[] addresses)
        {
            CancellationTokenSource fired;
            lock (_lock)
            {
                fired = _changed;
                _changed = new CancellationTokenSource();
                Volatile.Write(ref _current, new DiscoveredEndpoints([.. addresses.Select(a => new Uri(a))], new CancellationChangeToken(_changed.Token)));
            }

            fired.Cancel();
        }

        public void Dispose() => _changed.Dispose();
    }
}
