using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using ProductionServing.Diagnostics;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// The upstream instruments (docs/observability.md, "Metrics") after real requests through the proxy: each attempt's
/// count, durations and <c>error.type</c>, the requests rejected before any attempt, and each server's
/// health and active requests. Collectors are scoped to the host's meter factory, so other tests running
/// at the same time do not reach them.
/// </summary>
public sealed class ProxyMetricsTests
{
    private const string Attempts = "production_serving.upstream.attempts";
    private const string Duration = "production_serving.upstream.duration";
    private const string HeaderDuration = "production_serving.upstream.header.duration";
    private const string ConnectDuration = "production_serving.upstream.connect.duration";
    private const string Rejections = "production_serving.upstream.rejections";
    private const string Healthy = "production_serving.upstream.server.healthy";
    private const string ActiveRequests = "production_serving.upstream.server.active_requests";

    [Fact]
    public async Task Success_CountsOneAttemptWithItsStatus_AndRecordsItsDurations()
    {
        await using var upstream = await UpstreamHost.NamedAsync("a");
        await using var host = await ProxyAsync("", upstream.Address);
        using var attempts = Collect<long>(host, Attempts);
        using var duration = Collect<double>(host, Duration);
        using var header = Collect<double>(host, HeaderDuration);

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await attempts.WaitForMeasurementsAsync(1, TestTimeouts.Wait);
        var attempt = Assert.Single(attempts.GetMeasurementSnapshot());
        Assert.Equal(1, attempt.Value);
        AssertTags(attempt.Tags, [.. Server(upstream.Address), (ServingMetrics.StatusCodeTag, 200)]);
        var total = Assert.Single(duration.GetMeasurementSnapshot());
        AssertTags(total.Tags, Server(upstream.Address));
        var headers = Assert.Single(header.GetMeasurementSnapshot());
        AssertTags(headers.Tags, Server(upstream.Address));
        Assert.InRange(headers.Value, 0, total.Value);
    }

    [Fact]
    public async Task RefusedConnection_CountsAFailedAttempt_WithUpstreamConnect()
    {
        var refusing = RawUpstream.RefusingAddress();
        await using var host = await ProxyAsync("\"Retries\": 0", refusing);
        using var attempts = Collect<long>(host, Attempts);
        using var duration = Collect<double>(host, Duration);
        using var header = Collect<double>(host, HeaderDuration);
        using var connect = Collect<double>(host, ConnectDuration);

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        AssertTags(Assert.Single(attempts.GetMeasurementSnapshot()).Tags, [.. Server(refusing), (ServingMetrics.ErrorTypeTag, "upstream_connect")]);
        AssertTags(Assert.Single(duration.GetMeasurementSnapshot()).Tags, [.. Server(refusing), (ServingMetrics.ErrorTypeTag, "upstream_connect")]);
        Assert.Empty(header.GetMeasurementSnapshot());
        Assert.Empty(connect.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task ResetBeforeTheResponse_CountsAFailedAttempt_WithUpstreamReset()
    {
        await using var resetting = RawUpstream.Start(static async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            RawUpstream.Reset(socket);
        });
        await using var host = await ProxyAsync("\"Retries\": 0", resetting.Address);
        using var attempts = Collect<long>(host, Attempts);
        using var connect = Collect<double>(host, ConnectDuration);

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        AssertTags(Assert.Single(attempts.GetMeasurementSnapshot()).Tags, [.. Server(resetting.Address), (ServingMetrics.ErrorTypeTag, "upstream_reset")]);

        // The connection was opened before the reset: its time is known.
        AssertTags(Assert.Single(connect.GetMeasurementSnapshot()).Tags, Server(resetting.Address));
    }

    [Fact]
    public async Task ReadTimeout_CountsAFailedAttempt_WithUpstreamTimeout_AndItsDurationReachesTheTimeout()
    {
        await using var stalling = RawUpstream.Start(static async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            await socket.ReceiveAsync(new byte[1], System.Net.Sockets.SocketFlags.None, token);
        });
        await using var host = await ProxyAsync("\"Retries\": 0, \"ReadTimeout\": \"00:00:00.300\"", stalling.Address);
        using var attempts = Collect<long>(host, Attempts);
        using var duration = Collect<double>(host, Duration);

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        AssertTags(Assert.Single(attempts.GetMeasurementSnapshot()).Tags, [.. Server(stalling.Address), (ServingMetrics.ErrorTypeTag, "upstream_timeout")]);

        // The attempt waited out the 300 ms. Timers run on a coarse clock (TickCount64) that can fire a few
        // milliseconds before a Stopwatch would say the time is up, hence the margin.
        Assert.InRange(Assert.Single(duration.GetMeasurementSnapshot()).Value, 0.25, TestTimeouts.Wait.TotalSeconds);
    }

    [Fact]
    public async Task RetryOnASecondServer_CountsTwoAttempts_TheFirstFailed()
    {
        var refusing = RawUpstream.RefusingAddress();
        await using var second = await UpstreamHost.NamedAsync("second");
        await using var host = await ProxyAsync("\"MaxFails\": 0", refusing, second.Address);
        using var attempts = Collect<long>(host, Attempts);
        using var rejections = Collect<long>(host, Rejections);

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal("second", await response.Content.ReadAsStringAsync());
        await attempts.WaitForMeasurementsAsync(2, TestTimeouts.Wait);
        var both = attempts.GetMeasurementSnapshot();
        Assert.Equal(2, both.Count);
        AssertTags(both[0].Tags, [.. Server(refusing), (ServingMetrics.ErrorTypeTag, "upstream_connect")]);
        AssertTags(both[1].Tags, [.. Server(second.Address), (ServingMetrics.StatusCodeTag, 200)]);
        Assert.Empty(rejections.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task NoHealthyServer_IsARejection_WithoutAnAttempt()
    {
        // Both servers refuse and MaxFails is 1: the first request takes both out, the second finds none up.
        var refusing = new[] { RawUpstream.RefusingAddress(), RawUpstream.RefusingAddress() };
        await using var host = await ProxyAsync("\"MaxFails\": 1", refusing);
        using var attempts = Collect<long>(host, Attempts);
        using var rejections = Collect<long>(host, Rejections);

        using var first = await host.Client.GetAsync("/first");
        Assert.Equal(2, attempts.GetMeasurementSnapshot(clear: true).Count);
        Assert.Empty(rejections.GetMeasurementSnapshot());

        using var second = await host.Client.GetAsync("/second");

        Assert.Equal(HttpStatusCode.BadGateway, second.StatusCode);
        Assert.Empty(attempts.GetMeasurementSnapshot());
        var rejection = Assert.Single(rejections.GetMeasurementSnapshot());
        Assert.Equal(1, rejection.Value);
        AssertTags(rejection.Tags, [(ServingMetrics.UpstreamTag, "backend"), (ServingMetrics.ErrorTypeTag, "no_healthy_server")]);
    }

    [Fact]
    public async Task ServerAtMaxConnections_WithNoQueue_IsAMaxConnsRejection_AndTheHeldRequestIsActive()
    {
        var held = ProxyTestHelpers.Signal();
        var open = ProxyTestHelpers.Signal();
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            if (context.Request.Path == "/hold")
            {
                held.TrySetResult();
                await open.Task.WaitAsync(TestTimeouts.Wait);
            }

            await context.Response.WriteAsync("done");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { "QueueLimit": 0, "Servers": [ {{ServingJson.Server(upstream.Address, "\"MaxConnections\": 1")}} ] }
            """));
        using var rejections = Collect<long>(host, Rejections);
        using var active = Collect<int>(host, ActiveRequests);

        var holding = host.Client.GetAsync("/hold");
        await held.Task.WaitAsync(TestTimeouts.Wait);
        active.RecordObservableInstruments();
        var during = active.LastMeasurement!;
        using var rejected = await host.Client.GetAsync("/rejected");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        AssertTags(Assert.Single(rejections.GetMeasurementSnapshot()).Tags, [(ServingMetrics.UpstreamTag, "backend"), (ServingMetrics.ErrorTypeTag, "max_conns")]);
        Assert.Equal(1, during.Value);
        AssertTags(during.Tags, Server(upstream.Address));

        open.SetResult();
        using var done = await holding.WaitAsync(TestTimeouts.Wait);
        Assert.Equal("done", await done.Content.ReadAsStringAsync());
        await Poll.UntilAsync(() =>
        {
            active.RecordObservableInstruments();
            return active.LastMeasurement!.Value == 0;
        }, "the held request gives its server back");
    }

    [Fact]
    public async Task FailureWithMaxFails_FlipsTheServersHealthTo0()
    {
        var refusing = RawUpstream.RefusingAddress();
        await using var good = await UpstreamHost.NamedAsync("good");
        await using var host = await ProxyAsync("\"MaxFails\": 1", refusing, good.Address);
        using var healthy = Collect<int>(host, Healthy);
        Assert.Equal(new Dictionary<string, int> { [Name(refusing)] = 1, [Name(good.Address)] = 1 }, HealthByServer(healthy));

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal("good", await response.Content.ReadAsStringAsync());
        Assert.Equal(new Dictionary<string, int> { [Name(refusing)] = 0, [Name(good.Address)] = 1 }, HealthByServer(healthy));
    }

    [Fact]
    public async Task NewConnection_RecordsItsConnectTimeOnce_AndAReusedOneNothing()
    {
        await using var upstream = await UpstreamHost.NamedAsync("a");
        await using var host = await ProxyAsync("", upstream.Address);
        using var attempts = Collect<long>(host, Attempts);
        using var connect = Collect<double>(host, ConnectDuration);

        using (var first = await host.Client.GetAsync("/first"))
        {
            Assert.Equal("a", await first.Content.ReadAsStringAsync());
        }

        using (var second = await host.Client.GetAsync("/second"))
        {
            Assert.Equal("a", await second.Content.ReadAsStringAsync());
        }

        await attempts.WaitForMeasurementsAsync(2, TestTimeouts.Wait);
        var opened = Assert.Single(connect.GetMeasurementSnapshot());
        AssertTags(opened.Tags, Server(upstream.Address));
        Assert.True(opened.Value > 0);
    }

    [Fact]
    public void Health_ReportsTheGroupsInForce_AServerKeptAcrossAReloadKeepsItsState()
    {
        // Driven without a host: the in-memory configuration of ServingHost cannot delete a group's keys.
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var registry = new UpstreamRegistry(TimeProvider.System, NullLoggerFactory.Instance, new ServingMetrics(factory, new ProductionServing.Static.FileCacheBudget()));
        var options = new ProductionServingOptions();
        options.Upstreams["kept"] = TestGroups.Weighted(BalancingPolicy.RoundRobin, 1, 1);
        options.Upstreams["removed"] = TestGroups.Weighted(BalancingPolicy.RoundRobin, 1, 1);
        options.Upstreams["kept"].MaxFails = 1;
        var kept = registry.Build(options)["kept"];
        TestGroups.TakeOut(kept.Servers[0], TimeProvider.System);
        using var healthy = new MetricCollector<int>(factory, ServingMetrics.MeterName, Healthy);
        healthy.RecordObservableInstruments();
        Assert.Equal(4, healthy.GetMeasurementSnapshot(clear: true).Count);

        options.Upstreams.Remove("removed");
        registry.Build(options);
        healthy.RecordObservableInstruments();

        var reported = healthy.GetMeasurementSnapshot();
        Assert.All(reported, m => Assert.Equal("kept", m.Tags[ServingMetrics.UpstreamTag]));
        Assert.Equal("0 1", string.Join(' ', reported.Select(m => m.Value)));
    }

    private static Task<ServingHost> ProxyAsync(string settings, params string[] addresses) =>
        ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", settings, addresses)));

    private static MetricCollector<T> Collect<T>(ServingHost host, string instrument)
        where T : struct =>
        new(host.App.Services.GetRequiredService<IMeterFactory>(), ServingMetrics.MeterName, instrument);

    /// <summary><c>host:port</c> of a server's address, as the <c>production_serving.upstream.server</c> tag names it.</summary>
    private static string Name(string address) => new Uri(address).Authority;

    private static (string, object?)[] Server(string address) =>
        [(ServingMetrics.UpstreamTag, "backend"), (ServingMetrics.UpstreamServerTag, Name(address))];

    private static Dictionary<string, int> HealthByServer(MetricCollector<int> healthy)
    {
        healthy.RecordObservableInstruments();
        return healthy.GetMeasurementSnapshot(clear: true).ToDictionary(m => (string)m.Tags[ServingMetrics.UpstreamServerTag]!, m => m.Value);
    }

    /// <summary>Asserts that <paramref name="tags"/> are exactly <paramref name="expected"/>.</summary>
    private static void AssertTags(IReadOnlyDictionary<string, object?> tags, (string Key, object? Value)[] expected) =>
        Assert.Equal(expected.ToDictionary(t => t.Key, t => t.Value).OrderBy(t => t.Key), tags.OrderBy(t => t.Key));
}
