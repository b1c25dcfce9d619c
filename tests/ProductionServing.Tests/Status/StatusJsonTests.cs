using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Status;
using ProductionServing.Tests.Infrastructure;
using ProductionServing.Tests.Pools;

namespace ProductionServing.Tests.Status;

/// <summary><c>status.json</c>'s figures after real requests: locations, cache, pools, upstream servers, recent trouble, history.</summary>
public sealed class StatusJsonTests
{
    [Fact]
    public async Task Locations_CountRequestsByStatusClass_AndListUnusedAndNeverSelected()
    {
        using var site = new StaticSite();
        var config = ServingJson.Config($$"""
            { "Match": "= /exact", "App": {} },
            { "Match": "^~ /files/", "Static": { "Alias": "{{ServingJson.Escape(site.Root)}}/" } },
            { "Match": "~ \\.php$", "App": {} },
            { "Match": "~ \\.php$", "App": {} },
            { "Match": "/never/", "App": {} }
            """, section: StatusTestClient.Section());
        await using var host = await ServingHost.StartAsync(config);

        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/files/hello.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/files/hello.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/files/missing.txt")).StatusCode);
        Assert.Equal(301, (await host.SendRawAsync("GET /files/docs HTTP/1.1")).StatusCode);
        await host.Client.GetStringAsync("/exact");
        await host.Client.GetStringAsync("/elsewhere");

        var status = await host.Client.StatusWhenAsync(s => s.Location("^~ /files/").GetProperty("requests").GetInt64() == 4
            && s.Location(null).GetProperty("requests").GetInt64() == 1, "the requests are counted");

        var files = status.Location("^~ /files/");
        Assert.Equal((2, 1, 1, 0), (Class(files, "2xx"), Class(files, "3xx"), Class(files, "4xx"), Class(files, "5xx")));
        Assert.Equal(("^~ prefix", "static", site.Root), (files.GetProperty("kind").GetString(), files.GetProperty("handler").GetString(), files.GetProperty("target").GetString()));
        Assert.Equal(1, status.Location("= /exact").GetProperty("requests").GetInt64());
        Assert.Equal(-1, status.Location(null).GetProperty("index").GetInt32());

        Assert.Equal([2, 3, 4], [.. status.GetProperty("unused").EnumerateArray().Select(u => u.GetProperty("index").GetInt32())]);
        var never = Assert.Single(status.GetProperty("never_selected").EnumerateArray());
        Assert.Equal((3, "~ \\.php$"), (never.GetProperty("index").GetInt32(), never.GetProperty("match").GetString()));
        Assert.StartsWith("repeats Locations[2]", never.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("repeats Locations[2]", status.GetProperty("locations")[3].GetProperty("never_selected").GetString(), StringComparison.Ordinal);

        // hello.txt is cached now: the entry and its bytes, read from the lookups and the cache budget.
        var cache = status.GetProperty("static_cache");
        Assert.Equal(1, cache.GetProperty("entries").GetInt64());
        Assert.Equal("hello world".Length, cache.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task CacheHitsAndMisses_AreTheCacheInstrumentsCounts()
    {
        using var site = new StaticSite();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.StaticRoot(site.Root), section: StatusTestClient.Section()));
        using var lookups = new MetricCollector<long>(host.App.Services.GetRequiredService<IMeterFactory>(), "ProductionServing", "production_serving.static.cache.requests");

        await host.Client.GetStringAsync("/hello.txt");
        await host.Client.GetStringAsync("/hello.txt");
        await host.Client.GetStringAsync("/index.html");
        await host.Client.StatusWhenAsync(s => s.Location("/").GetProperty("requests").GetInt64() == 3, "the requests are counted");

        // What the static handler records (a miss that loads a file, then hits) is what the page shows.
        var measured = lookups.GetMeasurementSnapshot();
        var cache = (await host.Client.StatusAsync()).GetProperty("static_cache");
        Assert.Equal(measured.Where(m => Equals(m.Tags["production_serving.cache.result"], "hit")).Sum(m => m.Value), cache.GetProperty("hits").GetInt64());
        Assert.Equal(measured.Where(m => Equals(m.Tags["production_serving.cache.result"], "miss")).Sum(m => m.Value), cache.GetProperty("misses").GetInt64());
    }

    [Fact]
    public async Task Pools_ShowTheirLiveState()
    {
        var json = ServingJson.Config("""{ "Match": "/", "App": { "Pool": "p" } }""", pools: """ "p": { "MaxConcurrency": 1, "QueueLimit": 5 } """,
            section: StatusTestClient.Section());
        await using var app = await PoolTestApp.StartAsync(json);
        var running = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var queued = app.Client.GetAsync("/gate/b");
        await Poll.UntilAsync(() => app.Pool("p").QueueLength == 1, "b waits in the queue");

        var status = await app.Client.StatusAsync();

        var pool = status.Entry("pools", "name", "p");
        Assert.Equal((1, 1, 1, 5), (pool.GetProperty("busy").GetInt32(), pool.GetProperty("queued").GetInt32(), pool.GetProperty("limit").GetInt32(),
            pool.GetProperty("queue_limit").GetInt32()));
        Assert.Equal(256, status.Entry("pools", "name", "default").GetProperty("limit").GetInt32());
        app.Open("a");
        app.Open("b");
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await queued).StatusCode);
    }

    [Fact]
    public async Task Upstreams_ShowEachServersHealth()
    {
        await using var alive = await UpstreamHost.NamedAsync("alive");
        var refusing = RawUpstream.RefusingAddress();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.ProxyLocation("/", "http://backend"),
            ServingJson.Upstream("backend", "\"MaxFails\": 1, \"FailTimeout\": \"00:01:00\", \"Retries\": 1", refusing, alive.Address),
            section: StatusTestClient.Section()));

        // Round robin tries the refusing server first: it fails, is taken out, and the retry reaches the other.
        Assert.Equal("alive", await host.Client.GetStringAsync("/x"));

        var status = await host.Client.StatusAsync();
        var group = status.Entry("upstreams", "name", "backend");
        Assert.Equal("RoundRobin", group.GetProperty("balancing").GetString());
        Assert.False(group.Entry("servers", "address", new Uri(refusing).Authority).GetProperty("healthy").GetBoolean());
        var up = group.Entry("servers", "address", new Uri(alive.Address).Authority);
        Assert.True(up.GetProperty("healthy").GetBoolean());
        Assert.Equal(0, up.GetProperty("in_flight").GetInt32());
    }

    [Fact]
    public async Task FailedRequests_AreListedWithTheirTraceId()
    {
        var refusing = RawUpstream.RefusingAddress();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.ProxyLocation("/api/", "http://backend"),
            ServingJson.Upstream("backend", "\"Retries\": 0", refusing), section: StatusTestClient.Section()));
        const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/orders?secret=1");
        request.Headers.Add("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");

        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);

        var status = await host.Client.StatusWhenAsync(s => s.Location("/api/").GetProperty("failed").GetArrayLength() == 1, "the failure is listed");
        var failed = status.Location("/api/").GetProperty("failed")[0];
        Assert.Equal(("GET", "/api/orders", 502, "upstream_connect", TraceId),
            (failed.GetProperty("method").GetString(), failed.GetProperty("path").GetString(), failed.GetProperty("status").GetInt32(),
             failed.GetProperty("error_type").GetString(), failed.GetProperty("trace_id").GetString()));
        Assert.True(failed.GetProperty("duration_ms").GetDouble() >= 0);
        var error = Assert.Single(status.GetProperty("recent_errors").EnumerateArray());
        Assert.Equal(("/api/", TraceId), (error.GetProperty("location").GetString(), error.GetProperty("trace_id").GetString()));
        Assert.Equal(1, status.Location("/api/").GetProperty("status").GetProperty("5xx").GetInt64());
    }

    [Fact]
    public async Task ClientErrors_AreCounted_NotListedAsFailures()
    {
        using var site = new StaticSite();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.StaticRoot(site.Root), section: StatusTestClient.Section()));

        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/missing")).StatusCode);

        var status = await host.Client.StatusWhenAsync(s => Class(s.Location("/"), "4xx") == 1, "the 404 is counted");
        Assert.Equal(0, status.Location("/").GetProperty("failed").GetArrayLength());
        Assert.Equal(0, status.GetProperty("recent_errors").GetArrayLength());
    }

    [Fact]
    public async Task Slowest_ListsTheSlowestRequestsOfALocation_SlowestFirst()
    {
        var json = ServingJson.Config("""{ "Match": "/", "App": { "Pool": "p" } }""", pools: """ "p": { "MaxConcurrency": 4 } """, section: StatusTestClient.Section());
        await using var app = await PoolTestApp.StartAsync(json);
        var slow = app.Client.GetStringAsync("/gate/slow");
        await app.Started("slow");
        await app.GetStringAsync("/work");
        await Poll.UntilAsync(async () => (await app.Client.StatusAsync()).Location("/").GetProperty("requests").GetInt64() == 1, "the fast request is counted");
        app.Open("slow");
        await slow;

        var status = await app.Client.StatusWhenAsync(s => s.Location("/").GetProperty("slowest").GetArrayLength() == 2, "both are listed");
        var slowest = status.Location("/").GetProperty("slowest");
        Assert.Equal(["/gate/slow", "/work"], [.. slowest.EnumerateArray().Select(r => r.GetProperty("path").GetString()!)]);
        Assert.True(slowest[0].GetProperty("duration_ms").GetDouble() >= slowest[1].GetProperty("duration_ms").GetDouble());
    }

    [Fact]
    public async Task Sampler_TicksOnTheHostsClock_KeepsHistory_AndStopsWithTheHost()
    {
        var time = new FakeTimeProvider();
        var json = ServingJson.Config("""{ "Match": "/", "App": {} }""", section: StatusTestClient.Section());
        var host = await ServingHost.StartAsync(json, services: s => s.AddSingleton<TimeProvider>(time));
        StatusMonitor monitor;
        try
        {
            monitor = host.App.Services.GetRequiredService<StatusMonitor>();
            await host.Client.GetStringAsync("/a");
            await host.Client.GetStringAsync("/b");
            await host.Client.StatusWhenAsync(s => s.Location("/").GetProperty("requests").GetInt64() == 2, "both requests are counted");

            time.Advance(TimeSpan.FromSeconds(1));
            time.Advance(TimeSpan.FromSeconds(1));
            time.Advance(TimeSpan.FromSeconds(1));

            var status = await host.Client.StatusAsync();
            Assert.Equal([2.0, 0.0, 0.0], [.. status.Location("/").GetProperty("history").GetProperty("rate").EnumerateArray().Select(v => v.GetDouble())]);
            Assert.Equal([0.0, 0.0, 0.0], [.. status.Entry("pools", "name", "default").GetProperty("history").GetProperty("busy").EnumerateArray().Select(v => v.GetDouble())]);
            Assert.Equal(3.0, status.GetProperty("uptime_s").GetDouble());
        }
        finally
        {
            await host.DisposeAsync();
        }

        var figures = monitor.Figures.FindPool("default")!;
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(3, figures.Busy.ToArray().Length);
        Assert.False(monitor.IsRunning);
    }

    private static long Class(JsonElement location, string name) => location.GetProperty("status").GetProperty(name).GetInt64();
}
