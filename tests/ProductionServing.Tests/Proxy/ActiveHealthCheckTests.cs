using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Active health checks against real Kestrel upstreams, on a <see cref="FakeTimeProvider"/>: time moves
/// only when a test advances it, so an interval or a timeout passes without sleeping, and every wait
/// is bounded.
/// </summary>
/// <remarks>
/// Where the cases come from (facts, not code): nginx's ngx_http_upstream_hc_module docs
/// (https://nginx.org/en/docs/http/ngx_http_upstream_hc_module.html) and YARP's
/// test/ReverseProxy.Tests/Health/ActiveHealthCheckMonitorTests.cs and DefaultProbingRequestFactoryTests.cs
/// (microsoft/reverse-proxy); each test names its source.
/// </remarks>
public sealed class ActiveHealthCheckTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    // Longer than Interval on purpose. The fake clock jumps while real answers take real time, so a
    // test that advanced by more than Timeout could expire a probe whose answer is on its way. Rounds
    // never overlap, so once the next round's probe has arrived the previous round is over; advancing
    // one Interval at a time then never expires a probe that is not meant to.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(8);

    private const string HealthCheck = """, "HealthCheck": { "Path": "/healthz", "Interval": "00:00:05", "Timeout": "00:00:08" }""";

    private static string Config(string servers, string healthCheck = HealthCheck, string locations = "", string upstreams = "") => $$"""
        { "ProductionServing": {
            "Locations": [ { "Match": "/", "Proxy": { "Pass": "http://backend" } }{{locations}} ],
            "Upstreams": { "backend": { "Servers": [ {{servers}} ]{{healthCheck}} }{{upstreams}} } } }
        """;

    private static string Servers(params Backend[] backends) =>
        string.Join(", ", backends.Select(b => $$"""{ "Address": "{{b.Address}}" }"""));

    [Fact]
    public async Task UnhealthyServer_GetsNoRequests_UntilItsCheckPassesAgain()
    {
        // nginx: "Client requests are not passed to unhealthy servers"; passes=1 brings a server back.
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        await using var b = await Backend.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());

        b.HealthStatus = 503;
        time.Advance(Interval);
        await WaitUntilAsync(() => !ServerOf(host, b).ProbeHealthy, "b fails its check");

        Assert.Equal(["a", "a", "a", "a"], await GetBodiesAsync(host, 4));
        var failed = await LoggedAsync(host, 3101, b.Authority);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Contains("status 503", failed.Message, StringComparison.Ordinal);

        b.HealthStatus = 200;
        time.Advance(Interval);
        await WaitUntilAsync(() => ServerOf(host, b).ProbeHealthy, "b passes its check again");

        var bodies = await GetBodiesAsync(host, 4);
        Assert.Contains("a", bodies);
        Assert.Contains("b", bodies);
        var passed = await LoggedAsync(host, 3102, b.Authority);
        Assert.Equal(LogLevel.Information, passed.Level);
    }

    [Fact]
    public async Task ServersAreHealthyBeforeTheirFirstCheck()
    {
        // nginx without "mandatory": "the server will be initially considered healthy". The first round
        // runs at once, but a client request that comes before its answer must not be refused.
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        a.Stall = true;
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();

        using var response = await host.Client.GetAsync(new Uri("/x", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a", await response.Content.ReadAsStringAsync());
        Assert.True(ServerOf(host, a).ProbeHealthy);
    }

    [Theory]
    [InlineData(200, true)]
    [InlineData(204, true)]
    [InlineData(302, true)]
    [InlineData(399, true)]
    [InlineData(400, false)]
    [InlineData(404, false)]
    [InlineData(500, false)]
    [InlineData(503, false)]
    public async Task Status_DecidesTheVerdict_2xxAnd3xxAreHealthy(int status, bool healthy)
    {
        // nginx's default match: "status code other than 2xx or 3xx" fails; YARP reports a 500 as a failure.
        // Start from the opposite verdict so that reaching the expected one proves the probe was judged.
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a", healthStatus: healthy ? 503 : 200);
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();
        await WaitUntilAsync(() => ServerOf(host, a).ProbeHealthy != healthy, "the opposite verdict first");

        a.HealthStatus = status;
        time.Advance(Interval);

        await WaitUntilAsync(() => ServerOf(host, a).ProbeHealthy == healthy, $"status {status} is judged");
    }

    [Fact]
    public async Task NoAnswerWithinTimeout_MakesTheServerUnhealthy()
    {
        // nginx: "If any communication error or timeout occurs ... the health check will fail";
        // YARP: InitialDestinationsProbed_TrueAfterTheFirstProbe_OneTimesOut.
        // a recovers in the round where b stalls: a's verdict shows that a's probe of that round is over,
        // so advancing past Timeout can only expire b's.
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a", healthStatus: 503);
        await using var b = await Backend.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());
        await WaitUntilAsync(() => !ServerOf(host, a).ProbeHealthy, "a fails its first check");

        a.HealthStatus = 200;
        b.Stall = true;
        time.Advance(Interval);
        await b.NextProbeAsync();
        await WaitUntilAsync(() => ServerOf(host, a).ProbeHealthy, "a passes while b's probe waits");
        Assert.True(ServerOf(host, b).ProbeHealthy);
        time.Advance(ProbeTimeout);

        await WaitUntilAsync(() => !ServerOf(host, b).ProbeHealthy, "b's probe times out");
        await b.ProbeAborted.Task.WaitAsync(Bound);
        Assert.Equal(["a", "a"], await GetBodiesAsync(host, 2));
        var failed = await LoggedAsync(host, 3101, b.Authority);
        Assert.Contains("no response within Timeout 00:00:08", failed.Message, StringComparison.Ordinal);
        Assert.Null(failed.Exception);
    }

    [Fact]
    public async Task SlowServer_DoesNotHoldBackTheOthersVerdicts()
    {
        // YARP probes a cluster's destinations concurrently and reports each result
        // (ProbeCluster_UnsuccessfulResponseReceivedOrExceptionThrown_ReportItToPolicy).
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        await using var b = await Backend.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());

        a.HealthStatus = 500;
        b.Stall = true;
        time.Advance(Interval);

        // b's probe is still waiting (its Timeout has not passed on the fake clock), yet a is judged.
        await WaitUntilAsync(() => !ServerOf(host, a).ProbeHealthy, "a is judged while b's probe waits");
        Assert.False(b.ProbeAborted.Task.IsCompleted);
        Assert.True(ServerOf(host, b).ProbeHealthy);
    }

    [Fact]
    public async Task RefusedConnection_MakesTheServerUnhealthy()
    {
        // nginx: a communication error fails the check; YARP: an exception is reported as a failure.
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        var closed = ClosedPortAddress();
        await using var host = await StartAsync(Config(Servers(a) + $$""", { "Address": "{{closed}}" }"""), time);

        var server = host.App.Services.GetRequiredService<UpstreamRegistry>().Groups.Single().Servers[1];
        await WaitUntilAsync(() => !server.ProbeHealthy, "the closed port fails its first check");

        var failed = await LoggedAsync(host, 3101, server.Name);
        Assert.NotNull(failed.Exception);
        Assert.Equal(["a", "a"], await GetBodiesAsync(host, 2));
    }

    [Fact]
    public async Task Probe_IsAGetOfThePath_WithTheServersHostAndItsOwnUserAgent()
    {
        // YARP DefaultProbingRequestFactoryTests: the destination's address plus Path and query;
        // CheckHealthAsync_CustomUserAgentSpecified_UserAgentUnchanged: probes carry a User-Agent.
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        await using var host = await StartAsync(Config(Servers(a),
            healthCheck: """, "HealthCheck": { "Path": "/healthz?deep=1", "Interval": "00:00:05", "Timeout": "00:00:08" }"""), time);

        var probe = await a.NextProbeAsync();

        Assert.Equal("GET", probe.Method);
        Assert.Equal("/healthz?deep=1", probe.RawTarget);
        Assert.Equal("HTTP/1.1", probe.Protocol);
        Assert.Equal(a.Authority, probe.Header("Host"));
        Assert.Equal(UpstreamHealthChecks.UserAgent, probe.Header("User-Agent"));
        Assert.Null(probe.Header("X-Forwarded-For"));
        Assert.Null(probe.Header("Content-Length"));
    }

    [Fact]
    public async Task UpstreamWithoutHealthCheck_IsNeverProbed()
    {
        // YARP CheckHealthAsync_ActiveHealthCheckIsEnabledForCluster_SendProbe: a cluster with active
        // checks off gets no probe; nginx checks only groups whose location has health_check.
        // The checked group is the control: its probes show that rounds ran while the others got none.
        var time = new FakeTimeProvider();
        await using var checkedServer = await Backend.StartAsync("checked");
        await using var named = await Backend.StartAsync("named");
        await using var plain = await Backend.StartAsync("plain");
        await using var host = await StartAsync(Config(Servers(checkedServer),
            locations: $$""", { "Match": "/named/", "Proxy": { "Pass": "http://other" } }, { "Match": "/plain/", "Proxy": { "Pass": "{{plain.Address}}" } }""",
            upstreams: $$""", "other": { "Servers": [ { "Address": "{{named.Address}}" } ] }"""), time);
        await checkedServer.NextProbeAsync();

        for (var round = 0; round < 3; round++)
        {
            time.Advance(Interval);
            await checkedServer.NextProbeAsync();
        }

        Assert.Equal(0, named.ProbeCount);
        Assert.Equal(0, plain.ProbeCount);
        Assert.Empty(named.Host.Requests);
        Assert.Empty(plain.Host.Requests);
    }

    [Fact]
    public async Task HealthState_SurvivesAReloadThatKeepsTheServer()
    {
        // The issue: "health state of unchanged servers is kept" (nginx Plus keeps it for "persistent").
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        await using var b = await Backend.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());
        b.HealthStatus = 503;
        time.Advance(Interval);
        await WaitUntilAsync(() => !ServerOf(host, b).ProbeHealthy, "b fails its check");
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
        await WaitUntilAsync(() => ServerOf(host, b).ProbeHealthy, "b passes after the reload");
    }

    [Fact]
    public async Task ReloadAddingAServer_ChecksItInTheNextRound()
    {
        // YARP ProbeCluster_ClusterChanged_SendProbesToNewHealthEndpoint; nginx: a new server is healthy
        // until its first check fails (no "mandatory").
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        await using var b = await Backend.StartAsync("b", healthStatus: 503);
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();

        host.Reload(("ProductionServing:Upstreams:backend:Servers:1:Address", b.Address));
        Assert.True(ServerOf(host, b).ProbeHealthy);
        time.Advance(Interval);

        await b.NextProbeAsync();
        await WaitUntilAsync(() => !ServerOf(host, b).ProbeHealthy, "the added server fails its check");
    }

    [Fact]
    public async Task ReloadChangingTheInterval_ChecksAtOnce_ThenAtTheNewInterval()
    {
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        await using var b = await Backend.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());

        b.HealthStatus = 503;
        host.Reload(("ProductionServing:Upstreams:backend:HealthCheck:Interval", "00:00:20"));
        time.Advance(UpstreamHealthChecks.Heartbeat);
        await WaitUntilAsync(() => !ServerOf(host, b).ProbeHealthy, "b is checked once the new interval is seen");

        // The old 5 s interval would fire here; the new one does not.
        var probes = b.ProbeCount;
        b.HealthStatus = 200;
        time.Advance(Interval);
        await BarrierAsync(b);
        Assert.Equal(probes, b.ProbeCount);

        time.Advance(TimeSpan.FromSeconds(20) - Interval);
        await WaitUntilAsync(() => ServerOf(host, b).ProbeHealthy, "b is checked again one new interval later");
    }

    [Fact]
    public async Task StoppingTheHost_CancelsTheProbeInFlight_WithoutAVerdict()
    {
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        a.Stall = true;
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();
        var server = ServerOf(host, a);

        // The probe's Timeout never passes on the fake clock: only the stop can end it.
        await host.App.StopAsync().WaitAsync(Bound);

        await a.ProbeAborted.Task.WaitAsync(Bound);
        Assert.True(server.ProbeHealthy);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Id.Id is 3101 or 3103 or 3104);
    }

    [Fact]
    public async Task AfterTheHostStops_NoMoreProbesAreSent()
    {
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a");
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();
        time.Advance(Interval);
        await a.NextProbeAsync();

        await host.App.StopAsync().WaitAsync(Bound);
        var probes = a.ProbeCount;
        for (var i = 0; i < 3; i++)
        {
            time.Advance(Interval);
        }

        var checks = host.App.Services.GetServices<IHostedService>().OfType<UpstreamHealthChecks>().Single();
        Assert.True(checks.ExecuteTask!.IsCompletedSuccessfully);
        await BarrierAsync(a);
        Assert.Equal(probes, a.ProbeCount);
    }

    [Fact]
    public async Task ReloadRemovingTheHealthCheck_MakesItsServersHealthyAgain()
    {
        // YARP ProbeCluster_ClusterChanged_StopSendingProbes: a cluster whose active checks are turned off
        // is no longer probed; and a failed verdict must not outlive the check that gave it.
        // Driven without a host: the in-memory configuration of ServingHost cannot delete keys.
        var time = new FakeTimeProvider();
        await using var a = await Backend.StartAsync("a", healthStatus: 503);
        var registry = new UpstreamRegistry(time, NullLoggerFactory.Instance);
        var logger = new FakeLogger<UpstreamHealthChecks>();
        var checks = new UpstreamHealthChecks(registry, time, logger);
        registry.Build(Options(a, new HealthCheckOptions { Path = "/healthz", Interval = Interval, Timeout = ProbeTimeout }));
        await checks.StartAsync(CancellationToken.None);
        try
        {
            await a.NextProbeAsync();
            var server = registry.Groups.Single().Servers[0];
            await WaitUntilAsync(() => !server.ProbeHealthy, "a fails its check");

            registry.Build(Options(a, healthCheck: null));
            time.Advance(UpstreamHealthChecks.Heartbeat);

            Assert.Same(server, registry.Groups.Single().Servers[0]);
            await WaitUntilAsync(() => server.ProbeHealthy, "a is healthy without its check");
            await WaitUntilAsync(() => logger.Collector.GetSnapshot().Any(r => r.Id.Id == 3102), "the recovery is logged");
            Assert.Contains("its HealthCheck was removed", logger.Collector.GetSnapshot().Single(r => r.Id.Id == 3102).Message, StringComparison.Ordinal);
            var probes = a.ProbeCount;
            time.Advance(Interval);
            time.Advance(Interval);
            await BarrierAsync(a);
            Assert.Equal(probes, a.ProbeCount);
        }
        finally
        {
            await checks.StopAsync(CancellationToken.None).WaitAsync(Bound);
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

    private static Task<ServingHost> StartAsync(string json, FakeTimeProvider time) =>
        ServingHost.StartAsync(json, services: services => services.AddSingleton<TimeProvider>(time));

    private static ProductionServingOptions Options(Backend backend, HealthCheckOptions? healthCheck)
    {
        var upstream = new UpstreamOptions { HealthCheck = healthCheck };
        upstream.Servers.Add(new UpstreamServerOptions { Address = backend.Address });
        var options = new ProductionServingOptions();
        options.Upstreams["backend"] = upstream;
        return options;
    }

    private static UpstreamServer ServerOf(ServingHost host, Backend backend) =>
        host.App.Services.GetRequiredService<UpstreamRegistry>().Groups.Single(g => g.Name == "backend")
            .Servers.Single(s => s.Address.Port == backend.Port);

    private static async Task<string[]> GetBodiesAsync(ServingHost host, int count)
    {
        var bodies = new string[count];
        for (var i = 0; i < count; i++)
        {
            bodies[i] = await host.Client.GetStringAsync(new Uri($"/request/{i}", UriKind.Relative));
        }

        return bodies;
    }

    /// <summary>
    /// A request of our own, answered, after time advances that must not have probed: a probe sent by a
    /// timer that fired in <see cref="FakeTimeProvider.Advance"/> starts before Advance returns, so it
    /// would be at the upstream before this request (absence cannot be proven without a wait; this is the
    /// bounded stand-in).
    /// </summary>
    private static async Task BarrierAsync(Backend backend)
    {
        using var client = new HttpClient { Timeout = Bound };
        Assert.Equal(backend.Name, await client.GetStringAsync(new Uri(backend.Address + "/barrier")));
    }

    /// <summary>The one record of event <paramref name="id"/> about <paramref name="server"/>, once it is written (just after the verdict).</summary>
    private static async Task<FakeLogRecord> LoggedAsync(ServingHost host, int id, string server)
    {
        bool Matches(FakeLogRecord r) =>
            r.Id.Id == id && r.Message.Contains("server " + server + " ", StringComparison.Ordinal);
        await WaitUntilAsync(() => host.Logs.GetSnapshot().Any(Matches), $"event {id} is logged for {server}");
        return Assert.Single(host.Logs.GetSnapshot(), Matches);
    }

    /// <summary>A verdict lands after the probe's answer is read, so it is polled for, under a bound.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (!condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), bound.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
        }
    }

    /// <summary>An http address on 127.0.0.1 where nothing listens.</summary>
    private static string ClosedPortAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }

    /// <summary>
    /// An upstream whose <c>/healthz</c> answers <see cref="HealthStatus"/>, or with <see cref="Stall"/>
    /// nothing until the probe is canceled; every other path answers its name.
    /// </summary>
    private sealed class Backend : IAsyncDisposable
    {
        private readonly Channel<UpstreamRequest> _probes = Channel.CreateUnbounded<UpstreamRequest>();
        private int _healthStatus = 200;
        private int _probeCount;
        private volatile bool _stall;

        private Backend(string name) => Name = name;

        public string Name { get; }

        public UpstreamHost Host { get; private set; } = null!;

        public string Address => Host.Address;

        public int Port => Host.Port;

        /// <summary><c>127.0.0.1:PORT</c>, as logs name the server.</summary>
        public string Authority => $"127.0.0.1:{Port}";

        public int HealthStatus
        {
            get => Volatile.Read(ref _healthStatus);
            set => Volatile.Write(ref _healthStatus, value);
        }

        public bool Stall
        {
            get => _stall;
            set => _stall = value;
        }

        /// <summary>Completes when a stalled probe's connection is aborted by the prober.</summary>
        public TaskCompletionSource ProbeAborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Health requests received so far.</summary>
        public int ProbeCount => Volatile.Read(ref _probeCount);

        public static async Task<Backend> StartAsync(string name, int healthStatus = 200)
        {
            var backend = new Backend(name) { HealthStatus = healthStatus };
            backend.Host = await UpstreamHost.StartAsync(backend.HandleAsync);
            return backend;
        }

        /// <summary>The next health request to arrive (each is returned once).</summary>
        public async Task<UpstreamRequest> NextProbeAsync() =>
            await _probes.Reader.ReadAsync().AsTask().WaitAsync(Bound);

        private async Task HandleAsync(HttpContext context)
        {
            if (context.Request.Path != "/healthz")
            {
                await context.Response.WriteAsync(Name);
                return;
            }

            // Read the switches before signalling, so a test that flips them next affects the next probe only.
            var status = HealthStatus;
            var stall = Stall;
            Interlocked.Increment(ref _probeCount);
            _probes.Writer.TryWrite(UpstreamRequest.From(context));
            if (!stall)
            {
                context.Response.StatusCode = status;
                return;
            }

            var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (context.RequestAborted.Register(() => aborted.TrySetResult()))
            {
                await aborted.Task.WaitAsync(Bound);
            }

            ProbeAborted.TrySetResult();
        }

        public ValueTask DisposeAsync() => Host.DisposeAsync();
    }
}
