using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Infrastructure.HealthCheckHost;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Active health checks across reloads and shutdown, and their registration, on a
/// <see cref="FakeTimeProvider"/> against real Kestrel upstreams.
/// </summary>
/// <remarks>
/// Where the cases come from (facts, not code): nginx's ngx_http_upstream_hc_module docs
/// (https://nginx.org/en/docs/http/ngx_http_upstream_hc_module.html) and YARP's
/// test/ReverseProxy.Tests/Health/ActiveHealthCheckMonitorTests.cs and DefaultProbingRequestFactoryTests.cs
/// (microsoft/reverse-proxy); each test names its source.
/// </remarks>
public sealed class ActiveHealthCheckLifecycleTests
{
    [Fact]
    public async Task HealthState_SurvivesAReloadThatKeepsTheServer()
    {
        // docs/proxy.md, Reload: a server that stays "keeps its health" (nginx Plus keeps it for "persistent").
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        await using var b = await HealthCheckedUpstream.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());
        b.HealthStatus = 503;
        time.Advance(Interval);
        await Poll.UntilAsync(() => !ServerOf(host, b).ProbeHealthy, "b fails its check");
        var before = ServerOf(host, b);

        // Another setting of the group changes; b's group and address stay. No time passes, so no probe
        // could have judged b again: the verdict is the one from before the reload.
        host.Reload(("ProductionServing:Upstreams:backend:Servers:0:Weight", "3"));

        var after = ServerOf(host, b);
        Assert.Same(before, after);
        Assert.False(after.ProbeHealthy);
        Assert.Equal(3, ServerOf(host, a).Weight);
        Assert.Equal(["a", "a", "a"], await GetBodiesAsync(host, 3));

        // And the checks go on for the reloaded group.
        b.HealthStatus = 200;
        time.Advance(Interval);
        await Poll.UntilAsync(() => ServerOf(host, b).ProbeHealthy, "b passes after the reload");
    }

    [Fact]
    public async Task ReloadAddingAServer_ChecksItInTheNextRound()
    {
        // YARP ProbeCluster_ClusterChanged_SendProbesToNewHealthEndpoint; nginx: a new server is healthy
        // until its first check fails (no "mandatory").
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        await using var b = await HealthCheckedUpstream.StartAsync("b", healthStatus: 503);
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();

        host.Reload(("ProductionServing:Upstreams:backend:Servers:1:Address", b.Address));
        Assert.True(ServerOf(host, b).ProbeHealthy);
        time.Advance(Interval);

        await b.NextProbeAsync();
        await Poll.UntilAsync(() => !ServerOf(host, b).ProbeHealthy, "the added server fails its check");
    }

    [Fact]
    public async Task ReloadChangingTheInterval_ChecksAtOnce_ThenAtTheNewInterval()
    {
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        await using var b = await HealthCheckedUpstream.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());

        b.HealthStatus = 503;
        host.Reload(("ProductionServing:Upstreams:backend:HealthCheck:Interval", "00:00:20"));
        await Poll.UntilAsync(() => !ServerOf(host, b).ProbeHealthy, "b is checked once the new interval is seen");

        // The old 5 s interval would fire here; the new one does not.
        b.HealthStatus = 200;
        await AdvanceWithoutARoundAsync(ChecksOf(host), time, Interval, a, b);

        time.Advance(TimeSpan.FromSeconds(20) - Interval);
        await Poll.UntilAsync(() => ServerOf(host, b).ProbeHealthy, "b is checked again one new interval later");
    }

    [Fact]
    public async Task StoppingTheHost_CancelsTheProbeInFlight_WithoutAVerdict()
    {
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        a.Stall = true;
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();
        var server = ServerOf(host, a);

        // The probe's Timeout never passes on the fake clock: only the stop can end it.
        await host.App.StopAsync().WaitAsync(TestTimeouts.Wait);

        await a.ProbeAborted.Task.WaitAsync(TestTimeouts.Wait);
        Assert.True(server.ProbeHealthy);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Id.Id is 3101 or 3103 or 3104 or 3105 or 3106);
    }

    [Fact]
    public async Task AfterTheHostStops_NoMoreProbesAreSent()
    {
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();
        time.Advance(Interval);
        await a.NextProbeAsync();

        await host.App.StopAsync().WaitAsync(TestTimeouts.Wait);

        var checks = ChecksOf(host);
        Assert.True(checks.ExecuteTask!.IsCompletedSuccessfully);
        for (var i = 0; i < 3; i++)
        {
            await AdvanceWithoutARoundAsync(checks, time, Interval, a);
        }
    }

    [Fact]
    public async Task ReloadRemovingTheHealthCheck_MakesItsServersHealthyAgain()
    {
        // YARP ProbeCluster_ClusterChanged_StopSendingProbes: a cluster whose active checks are turned off
        // is no longer probed; and a failed verdict must not outlive the check that gave it.
        // Driven without a host: the in-memory configuration of ServingHost cannot delete keys.
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a", healthStatus: 503);
        var registry = new UpstreamRegistry(time, NullLoggerFactory.Instance, TestGroups.Metrics);
        var logger = new FakeLogger<UpstreamHealthChecks>();
        var checks = new UpstreamHealthChecks(registry, time, logger);
        registry.Build(Options(a, new UpstreamHealthCheckOptions { Path = "/healthz", Interval = Interval, Timeout = ProbeTimeout }));
        await checks.StartAsync(CancellationToken.None);
        try
        {
            await a.NextProbeAsync();
            var server = registry.Groups.Single().Servers[0];
            await Poll.UntilAsync(() => !server.ProbeHealthy, "a fails its check");

            registry.Build(Options(a, healthCheck: null));

            Assert.Same(server, registry.Groups.Single().Servers[0]);
            await Poll.UntilAsync(() => server.ProbeHealthy, "a is healthy without its check");
            await logger.Collector.WaitForEventAsync(3107, "Server", server.Name);
            await AdvanceWithoutARoundAsync(checks, time, Interval, a);
            await AdvanceWithoutARoundAsync(checks, time, Interval, a);
        }
        finally
        {
            await checks.StopAsync(CancellationToken.None).WaitAsync(TestTimeouts.Wait);
            checks.Dispose();
        }
    }

    [Fact]
    public void AddProductionServingTwice_RegistersTheHealthChecksOnce()
    {
        var services = new ServiceCollection()
            .AddProductionServing(options => { })
            .AddProductionServing(options => { });

        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(UpstreamHealthChecks));
    }

    private static ProductionServingOptions Options(HealthCheckedUpstream upstream, UpstreamHealthCheckOptions? healthCheck)
    {
        var group = new UpstreamOptions { HealthCheck = healthCheck };
        group.Servers.Add(new UpstreamServerOptions { Address = upstream.Address });
        var options = new ProductionServingOptions();
        options.Upstreams["backend"] = group;
        return options;
    }
}
