using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Diagnostics;
using ProductionServing.Pools;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>The pools' instruments (docs/observability.md, "Metrics") and their <c>Server-Timing</c> field, read after real requests.</summary>
public sealed class PoolMetricsTests
{
    private const string QueueLength = "production_serving.pool.queue.length";
    private const string Busy = "production_serving.pool.workers.busy";
    private const string Limit = "production_serving.pool.workers.limit";
    private const string QueueDuration = "production_serving.pool.queue.duration";
    private const string Rejections = "production_serving.pool.rejections";
    private const string RequestTimeouts = "production_serving.pool.request_timeouts";
    private const string Replaced = "production_serving.pool.workers.replaced";

    [Fact]
    public async Task Gauges_ShowTheRequestsHeldInThePool()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 2, "QueueLimit": 5 } """));
        using var queueLength = Collect<int>(app, QueueLength);
        using var busy = Collect<int>(app, Busy);
        using var limit = Collect<int>(app, Limit);
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var b = app.Client.GetAsync("/gate/b");
        await app.Started("b");
        var held = new[] { a, b, app.Client.GetAsync("/gate/c") };
        await Poll.UntilAsync(() => app.Pool("p").QueueLength == 1, "c waits");

        Assert.Equal(1, Observe(queueLength, "p"));
        Assert.Equal(2, Observe(busy, "p"));
        Assert.Equal(2, Observe(limit, "p"));
        Assert.Equal(0, Observe(busy, "default"));
        Assert.Equal(256, Observe(limit, "default"));

        app.Open("a");
        app.Open("b");
        app.Open("c");
        Assert.All(await Task.WhenAll(held), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await Poll.UntilAsync(() => Observe(busy, "p") == 0, "the slots are free again");
        Assert.Equal(0, Observe(queueLength, "p"));
    }

    [Fact]
    public async Task Gauges_ReportAPoolKeptByAReloadOnce_AndARemovedPoolNoMore()
    {
        var removeQ = false;
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "MaxConcurrency": 2 }, "q": { "MaxConcurrency": 3 } """),
            services: s => s.PostConfigure<ProductionServingOptions>(o =>
            {
                if (Volatile.Read(ref removeQ))
                {
                    o.Pools.Remove("q");
                }
            }));
        using var limit = Collect<int>(app, Limit);
        Assert.Equal(3, Observe(limit, "q"));

        Volatile.Write(ref removeQ, true);
        app.Host.Reload(("ProductionServing:Pools:p:MaxConcurrency", "4"));
        await Poll.UntilAsync(() => app.Pool("p").Settings.Limit == 4, "the reload is in force");

        limit.Clear();
        limit.RecordObservableInstruments();
        var measurements = limit.GetMeasurementSnapshot();
        Assert.Equal(4, Assert.Single(measurements, m => PoolOf(m) == "p").Value);
        Assert.DoesNotContain(measurements, m => PoolOf(m) == "q");
        Assert.Equal(["default", "p"], measurements.Select(PoolOf).Order());
    }

    [Fact]
    public async Task RequestAdmittedAtOnce_WaitedZero_WithoutAnErrorType()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 2 } """));
        using var duration = Collect<double>(app, QueueDuration);

        Assert.Equal("worked", await app.GetStringAsync("/work"));

        var wait = Assert.Single(duration.GetMeasurementSnapshot());
        Assert.Equal(0, wait.Value);
        Assert.Equal(Tags(("production_serving.pool", "p")), wait.Tags);
    }

    [Fact]
    public async Task QueuedRequest_RecordsItsWait()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 1 } """),
            services: s => s.AddSingleton<TimeProvider>(time));
        using var duration = Collect<double>(app, QueueDuration);
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var b = app.Client.GetAsync("/gate/b");
        await Poll.UntilAsync(() => app.Pool("p").QueueLength == 1, "b waits");

        time.Advance(TimeSpan.FromSeconds(2.5));
        app.Open("a");
        app.Open("b");
        Assert.Equal(HttpStatusCode.OK, (await a).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b).StatusCode);

        Assert.Equal([0, 2.5], duration.GetMeasurementSnapshot().Select(m => m.Value).Order());
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.Equal(Tags(("production_serving.pool", "p")), m.Tags));
    }

    [Fact]
    public async Task FullQueue_CountsARejection_AndAZeroWaitWithItsErrorType()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 0 } """));
        using var rejections = Collect<long>(app, Rejections);
        using var duration = Collect<double>(app, QueueDuration);
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        using var full = await app.Client.GetAsync("/gate/b");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
        var rejection = Assert.Single(rejections.GetMeasurementSnapshot());
        Assert.Equal(1, rejection.Value);
        Assert.Equal(Tags(("production_serving.pool", "p"), ("error.type", "queue_full")), rejection.Tags);
        var wait = Assert.Single(duration.GetMeasurementSnapshot(), m => m.Tags.ContainsKey("error.type"));
        Assert.Equal(0, wait.Value);
        Assert.Equal(Tags(("production_serving.pool", "p"), ("error.type", "queue_full")), wait.Tags);
        app.Open("a");
        await a;
    }

    [Fact]
    public async Task QueueTimeout_CountsARejection_AndTheWaitWithItsErrorType()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 5, "QueueTimeout": "00:00:05" } """),
            services: s => s.AddSingleton<TimeProvider>(time));
        using var rejections = Collect<long>(app, Rejections);
        using var duration = Collect<double>(app, QueueDuration);
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var b = app.Client.GetAsync("/gate/b");
        await Poll.UntilAsync(() => app.Pool("p").QueueLength == 1, "b waits");

        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await b).StatusCode);
        var rejection = Assert.Single(rejections.GetMeasurementSnapshot());
        Assert.Equal(Tags(("production_serving.pool", "p"), ("error.type", "queue_timeout")), rejection.Tags);
        var wait = Assert.Single(duration.GetMeasurementSnapshot(), m => m.Tags.ContainsKey("error.type"));
        Assert.Equal(5, wait.Value);
        Assert.Equal(Tags(("production_serving.pool", "p"), ("error.type", "queue_timeout")), wait.Tags);
        app.Open("a");
        await a;
    }

    [Fact]
    public async Task StoppingPool_CountsShuttingDownRejections()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1 } """));
        using var rejections = Collect<long>(app, Rejections);
        app.Host.App.Services.GetRequiredService<PoolRegistry>().BeginStopping(); // what the host's stopping does first

        using var refused = await app.Client.GetAsync("/work");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(Tags(("production_serving.pool", "p"), ("error.type", "shutting_down")), Assert.Single(rejections.GetMeasurementSnapshot()).Tags);
    }

    [Fact]
    public async Task ClientThatLeavesTheQueue_IsNoRejection_AndItsWaitSaysItLeft()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 1 } """));
        using var rejections = Collect<long>(app, Rejections);
        using var duration = Collect<double>(app, QueueDuration);
        using var requests = Collect<double>(app, "production_serving.request.duration");
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        using (var leaving = new CancellationTokenSource())
        {
            var b = app.Client.GetAsync("/gate/b", leaving.Token);
            await Poll.UntilAsync(() => app.Pool("p").QueueLength == 1, "b waits");
            leaving.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        }

        await duration.WaitForMeasurementsAsync(2, TestTimeouts.Wait);
        Assert.Contains(duration.GetMeasurementSnapshot(),
            m => m.Tags.Count == 2 && m.Tags["error.type"] as string == "client_aborted" && m.Tags["production_serving.pool"] as string == "p");
        Assert.Empty(rejections.GetMeasurementSnapshot());

        // No status reached the client: nginx's 499, not a server error.
        await requests.WaitForMeasurementsAsync(1, TestTimeouts.Wait);
        var left = Assert.Single(requests.GetMeasurementSnapshot());
        Assert.Equal(499, left.Tags["http.response.status_code"]);
        Assert.Equal("client_aborted", left.Tags["error.type"]);
        app.Open("a");
        await a;
    }

    [Fact]
    public async Task RequestTimeout_AnsweredWith504_IsCountedAsAnswered()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 2, "RequestTimeout": "00:00:02" } """),
            services: s => s.AddSingleton<TimeProvider>(time));
        using var timeouts = Collect<long>(app, RequestTimeouts);
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(HttpStatusCode.GatewayTimeout, (await a).StatusCode);
        await timeouts.WaitForMeasurementsAsync(1, TestTimeouts.Wait);
        var timeout = Assert.Single(timeouts.GetMeasurementSnapshot());
        Assert.Equal(1, timeout.Value);
        Assert.Equal(Tags(("production_serving.pool", "p"), ("production_serving.timeout.outcome", "answered")), timeout.Tags);
    }

    [Fact]
    public async Task RequestTimeout_AfterTheResponseStarted_IsCountedAsAborted()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 2, "RequestTimeout": "00:00:02" } """),
            services: s => s.AddSingleton<TimeProvider>(time));
        using var timeouts = Collect<long>(app, RequestTimeouts);
        using var response = await app.Client.GetAsync("/partial/a", HttpCompletionOption.ResponseHeadersRead);
        await app.Started("a");

        time.Advance(TimeSpan.FromSeconds(2));

        await Assert.ThrowsAsync<HttpRequestException>(() => response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Wait));
        await timeouts.WaitForMeasurementsAsync(1, TestTimeouts.Wait);
        Assert.Equal(Tags(("production_serving.pool", "p"), ("production_serving.timeout.outcome", "aborted")),
            Assert.Single(timeouts.GetMeasurementSnapshot()).Tags);
    }

    [Fact]
    public async Task StuckDedicatedWorker_IsCountedAsReplaced()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "DedicatedThreads": true, "Workers": 1, "RequestTimeout": "00:00:01" } """),
            services: s => s.AddSingleton<TimeProvider>(time));
        using var replaced = Collect<long>(app, Replaced);
        using var timeouts = Collect<long>(app, RequestTimeouts);
        var stuck = app.Client.GetAsync("/block/0");
        await app.Started("0");

        time.Advance(TimeSpan.FromSeconds(1)); // canceled, but the blocked code does not look
        Assert.Empty(replaced.GetMeasurementSnapshot());
        time.Advance(RequestDeadline.AbandonGrace); // given up on: answered, and its worker replaced

        Assert.Equal(HttpStatusCode.GatewayTimeout, (await stuck).StatusCode);
        await replaced.WaitForMeasurementsAsync(1, TestTimeouts.Wait);
        var replacement = Assert.Single(replaced.GetMeasurementSnapshot());
        Assert.Equal(1, replacement.Value);
        Assert.Equal(Tags(("production_serving.pool", "p")), replacement.Tags);
        Assert.Equal(Tags(("production_serving.pool", "p"), ("production_serving.timeout.outcome", "answered")),
            Assert.Single(timeouts.GetMeasurementSnapshot()).Tags);
        app.Unblock();
    }

    [Fact]
    public async Task ServerTiming_GivesTheQueueWait_BeforeTheAppRuns()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(
            ServingJson.Config("""{ "Match": "/", "App": { "Pool": "p" } }""", pools: """ "p": { "MaxConcurrency": 1, "QueueLimit": 1 } """,
                section: """ "ServerTiming": true """),
            services: s => s.AddSingleton<TimeProvider>(time));
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var b = app.Client.GetAsync("/gate/b");
        await Poll.UntilAsync(() => app.Pool("p").QueueLength == 1, "b waits");

        time.Advance(TimeSpan.FromMilliseconds(1500));
        app.Open("a");
        app.Open("b");

        using var atOnce = await a;
        using var queued = await b;
        Assert.Equal("queue;dur=0", Assert.Single(atOnce.Headers.GetValues("Server-Timing")));
        Assert.Equal("queue;dur=1500", Assert.Single(queued.Headers.GetValues("Server-Timing")));
    }

    [Fact]
    public async Task ServerTiming_IsOffByDefault()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1 } """));

        using var response = await app.Client.GetAsync("/work");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Server-Timing"));
    }

    private static MetricCollector<T> Collect<T>(PoolTestApp app, string instrument)
        where T : struct =>
        new(app.Host.App.Services.GetRequiredService<IMeterFactory>(), ServingMetrics.MeterName, instrument);

    /// <summary>The value a gauge reports now for <paramref name="pool"/>, which it must report exactly once.</summary>
    private static int Observe(MetricCollector<int> gauge, string pool)
    {
        gauge.Clear();
        gauge.RecordObservableInstruments();
        return Assert.Single(gauge.GetMeasurementSnapshot(), m => PoolOf(m) == pool).Value;
    }

    private static string? PoolOf<T>(CollectedMeasurement<T> measurement)
        where T : struct => measurement.Tags[ServingMetrics.PoolTag] as string;

    private static Dictionary<string, object?> Tags(params (string Key, string Value)[] tags) =>
        tags.ToDictionary(t => t.Key, t => (object?)t.Value);
}
