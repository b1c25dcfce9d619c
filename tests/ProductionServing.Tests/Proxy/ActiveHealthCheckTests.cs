using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Infrastructure.HealthCheckHost;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Active health check verdicts and what balancing makes of them, against real Kestrel upstreams on a
/// <see cref="FakeTimeProvider"/>: time moves only when a test advances it, so an interval or a timeout
/// passes without sleeping, and every wait is bounded.
/// </summary>
/// <remarks>
/// Where the cases come from (facts, not code): nginx's ngx_http_upstream_hc_module docs
/// (https://nginx.org/en/docs/http/ngx_http_upstream_hc_module.html) and YARP's
/// test/ReverseProxy.Tests/Health/ActiveHealthCheckMonitorTests.cs and DefaultProbingRequestFactoryTests.cs
/// (microsoft/reverse-proxy); each test names its source.
/// </remarks>
public sealed class ActiveHealthCheckTests
{
    [Fact]
    public async Task UnhealthyServer_GetsNoRequests_UntilItsCheckPassesAgain()
    {
        // nginx: "Client requests are not passed to unhealthy servers"; passes=1 brings a server back.
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        await using var b = await HealthCheckedUpstream.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());

        b.HealthStatus = 503;
        time.Advance(Interval);
        await Poll.UntilAsync(() => !ServerOf(host, b).ProbeHealthy, "b fails its check");

        Assert.Equal(["a", "a", "a", "a"], await GetBodiesAsync(host, 4));
        var failed = await LoggedAsync(host, 3101, b.Authority);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Equal("backend", failed.Field("Upstream"));
        Assert.Equal("503", failed.Field("Status"));
        Assert.Equal("/healthz", failed.Field("Path"));

        b.HealthStatus = 200;
        time.Advance(Interval);
        await Poll.UntilAsync(() => ServerOf(host, b).ProbeHealthy, "b passes its check again");

        var bodies = await GetBodiesAsync(host, 4);
        Assert.Contains("a", bodies);
        Assert.Contains("b", bodies);
        var passed = await LoggedAsync(host, 3102, b.Authority);
        Assert.Equal(LogLevel.Information, passed.Level);
        Assert.Equal("200", passed.Field("Status"));
    }

    [Fact]
    public async Task ServersAreHealthyBeforeTheirFirstCheck()
    {
        // nginx without "mandatory": "the server will be initially considered healthy". The first round
        // runs at once, but a client request that comes before its answer must not be refused.
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        a.Stall = true;
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();

        using var response = await host.Client.GetAsync(new Uri("/x", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a", await response.Content.ReadAsStringAsync());
        Assert.True(ServerOf(host, a).ProbeHealthy);
    }

    [Fact]
    public async Task ClockMovingWhileTheFirstRoundStarts_DoesNotDelayTheNextRound()
    {
        // The first round runs as soon as the group is seen. If it ran inside the callback of a timer due
        // now, a test that advanced one Interval while that callback was still returning (its thread
        // preempted on a busy machine) would find the next round moved one Interval later.
        var time = new HoldingTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();

        a.HealthStatus = 503;
        time.Step(Interval);
        time.Release();

        await Poll.UntilAsync(() => !ServerOf(host, a).ProbeHealthy, "the round one Interval later fails a");
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
        await using var a = await HealthCheckedUpstream.StartAsync("a", healthStatus: healthy ? 503 : 200);
        await using var host = await StartAsync(Config(Servers(a)), time);
        await a.NextProbeAsync();
        await Poll.UntilAsync(() => ServerOf(host, a).ProbeHealthy != healthy, "the opposite verdict first");

        a.HealthStatus = status;
        time.Advance(Interval);

        await Poll.UntilAsync(() => ServerOf(host, a).ProbeHealthy == healthy, $"status {status} is judged");
    }

    [Fact]
    public async Task NoAnswerWithinTimeout_MakesTheServerUnhealthy()
    {
        // nginx: "If any communication error or timeout occurs ... the health check will fail";
        // YARP: InitialDestinationsProbed_TrueAfterTheFirstProbe_OneTimesOut.
        // a recovers in the round where b stalls: a's verdict shows that a's probe of that round is over,
        // so advancing past Timeout can only expire b's.
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a", healthStatus: 503);
        await using var b = await HealthCheckedUpstream.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());
        await Poll.UntilAsync(() => !ServerOf(host, a).ProbeHealthy, "a fails its first check");

        a.HealthStatus = 200;
        b.Stall = true;
        time.Advance(Interval);
        await b.NextProbeAsync();
        await Poll.UntilAsync(() => ServerOf(host, a).ProbeHealthy, "a passes while b's probe waits");
        Assert.True(ServerOf(host, b).ProbeHealthy);
        time.Advance(ProbeTimeout);

        await Poll.UntilAsync(() => !ServerOf(host, b).ProbeHealthy, "b's probe times out");
        await b.ProbeAborted.Task.WaitAsync(TestTimeouts.Wait);
        Assert.Equal(["a", "a"], await GetBodiesAsync(host, 2));
        var failed = await LoggedAsync(host, 3105, b.Authority);
        Assert.Equal("00:00:08", failed.Field("Timeout"));
        Assert.Null(failed.Exception);
    }

    [Fact]
    public async Task SlowServer_DoesNotHoldBackTheOthersVerdicts()
    {
        // YARP probes a cluster's destinations concurrently and reports each result
        // (ProbeCluster_UnsuccessfulResponseReceivedOrExceptionThrown_ReportItToPolicy).
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        await using var b = await HealthCheckedUpstream.StartAsync("b");
        await using var host = await StartAsync(Config(Servers(a, b)), time);
        await Task.WhenAll(a.NextProbeAsync(), b.NextProbeAsync());

        a.HealthStatus = 500;
        b.Stall = true;
        time.Advance(Interval);

        // b's probe is still waiting (its Timeout has not passed on the fake clock), yet a is judged.
        await Poll.UntilAsync(() => !ServerOf(host, a).ProbeHealthy, "a is judged while b's probe waits");
        Assert.False(b.ProbeAborted.Task.IsCompleted);
        Assert.True(ServerOf(host, b).ProbeHealthy);
    }

    [Fact]
    public async Task RefusedConnection_MakesTheServerUnhealthy()
    {
        // nginx: a communication error fails the check; YARP: an exception is reported as a failure.
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
        var refusing = RawUpstream.RefusingAddress();
        await using var host = await StartAsync(Config(Servers(a) + $$""", { "Address": "{{refusing}}" }"""), time);

        var server = host.App.Services.GetRequiredService<UpstreamRegistry>().Groups.Single().Servers[1];
        await Poll.UntilAsync(() => !server.ProbeHealthy, "the refusing address fails its first check");

        var failed = await LoggedAsync(host, 3106, server.Name);
        Assert.Equal("ConnectionError", failed.Field("Error"));
        var refused = Assert.IsType<SocketException>(Assert.IsType<HttpRequestException>(failed.Exception).InnerException);
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Equal(["a", "a"], await GetBodiesAsync(host, 2));
    }

    [Fact]
    public async Task Probe_IsAGetOfThePath_WithTheServersHostAndItsOwnUserAgent()
    {
        // YARP DefaultProbingRequestFactoryTests: the destination's address plus Path and query;
        // CheckHealthAsync_CustomUserAgentSpecified_UserAgentUnchanged: probes carry a User-Agent.
        var time = new FakeTimeProvider();
        await using var a = await HealthCheckedUpstream.StartAsync("a");
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
        // Once no round runs, every probe ever sent has reached its upstream, so none can still be on its way.
        var time = new FakeTimeProvider();
        await using var checkedServer = await HealthCheckedUpstream.StartAsync("checked");
        await using var named = await HealthCheckedUpstream.StartAsync("named");
        await using var plain = await HealthCheckedUpstream.StartAsync("plain");
        await using var host = await StartAsync(Config(Servers(checkedServer),
            locations: $$""", { "Match": "/named/", "Proxy": { "Pass": "http://other" } }, { "Match": "/plain/", "Proxy": { "Pass": "{{plain.Address}}" } }""",
            upstreams: $$""", "other": { "Servers": [ { "Address": "{{named.Address}}" } ] }"""), time);
        var checks = ChecksOf(host);
        await checkedServer.NextProbeAsync();

        for (var round = 0; round < 3; round++)
        {
            time.Advance(Interval);
            await checkedServer.NextProbeAsync();
        }

        await IdleAsync(checks);
        Assert.Equal(4, checks.RoundsStarted);      // the first and one per Interval, all of the checked group
        Assert.Equal(4, checkedServer.ProbeCount);
        Assert.Equal(0, named.ProbeCount);
        Assert.Equal(0, plain.ProbeCount);
        Assert.Empty(named.Host.Requests);
        Assert.Empty(plain.Host.Requests);
    }
}
