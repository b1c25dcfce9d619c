using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Diagnostics;

/// <summary>
/// The request metrics, read as a listener sees them after real requests: <c>production_serving.request.duration</c>
/// with the location, handler, status and <c>error.type</c>; the static cache and bytes; and the location as
/// <c>http.route</c> on ASP.NET Core's own <c>http.server.request.duration</c>.
/// </summary>
public sealed class RequestMetricsTests : IDisposable
{
    private readonly StaticSite _site = new();

    public void Dispose() => _site.Dispose();

    private string Locations(string extra = "") => (extra.Length == 0 ? "" : extra + ", ") + $$"""
        { "Match": "/", "Static": { "Root": "{{ServingJson.Escape(_site.Root)}}" } },
        { "Match": "/app/", "App": {} },
        { "Match": "= /throws", "App": { "Pool": null } }
        """;

    private static MetricCollector<T> Collect<T>(ServingHost host, string instrument, string meter = "ProductionServing")
        where T : struct =>
        new(host.App.Services.GetRequiredService<IMeterFactory>(), meter, instrument);

    [Fact]
    public async Task StaticGet_IsRecordedWithItsLocationHandlerAndStatus()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(Locations()));
        using var duration = Collect<double>(host, "production_serving.request.duration");

        Assert.Equal("hello world", await host.Client.GetStringAsync("/hello.txt"));

        var measurement = Assert.Single(await WaitAsync(duration, 1));
        Assert.Equal("/", measurement.Tags["production_serving.location"]);
        Assert.Equal("static", measurement.Tags["production_serving.handler"]);
        Assert.Equal(200, measurement.Tags["http.response.status_code"]);
        Assert.False(measurement.Tags.ContainsKey("error.type"));
        Assert.InRange(measurement.Value, 0, TestTimeouts.Wait.TotalSeconds);
    }

    [Fact]
    public async Task Failures_CarryTheirErrorType()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(Locations()));
        using var duration = Collect<double>(host, "production_serving.request.duration");

        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/missing.txt")).StatusCode);
        Assert.Equal(400, (await host.SendRawAsync("GET /a/../../etc/passwd HTTP/1.1")).StatusCode);

        var measurements = await WaitAsync(duration, 2);
        var notFound = Assert.Single(measurements, m => Equals(m.Tags["http.response.status_code"], 404));
        Assert.Equal("not_found", notFound.Tags["error.type"]);
        Assert.Equal("/", notFound.Tags["production_serving.location"]);

        // Refused before any location was selected: no location and no handler to name.
        var invalid = Assert.Single(measurements, m => Equals(m.Tags["http.response.status_code"], 400));
        Assert.Equal("invalid_request_target", invalid.Tags["error.type"]);
        Assert.False(invalid.Tags.ContainsKey("production_serving.location"));
        Assert.False(invalid.Tags.ContainsKey("production_serving.handler"));
    }

    [Fact]
    public async Task AppThatThrows_IsRecordedAs500WithAppException()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(Locations()),
            afterServing: static app => app.Use(static (context, next) =>
                context.Request.Path == "/throws" ? throw new InvalidOperationException("app failure") : next(context)));
        using var duration = Collect<double>(host, "production_serving.request.duration");

        Assert.Equal(HttpStatusCode.InternalServerError, (await host.Client.GetAsync("/throws")).StatusCode);

        var measurement = Assert.Single(await WaitAsync(duration, 1));
        Assert.Equal(500, measurement.Tags["http.response.status_code"]);
        Assert.Equal("app_exception", measurement.Tags["error.type"]);
        Assert.Equal("app", measurement.Tags["production_serving.handler"]);
        Assert.Equal("= /throws", measurement.Tags["production_serving.location"]);
    }

    [Fact]
    public async Task UnmatchedRequest_IsTheAppsWithoutALocation()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config("""{ "Match": "= /only", "App": {} }"""));
        using var duration = Collect<double>(host, "production_serving.request.duration");

        await host.Client.GetStringAsync("/elsewhere");

        var measurement = Assert.Single(await WaitAsync(duration, 1));
        Assert.Equal("app", measurement.Tags["production_serving.handler"]);
        Assert.False(measurement.Tags.ContainsKey("production_serving.location"));
    }

    [Fact]
    public async Task StaticCache_CountsHitsMissesAndBytes()
    {
        // data.bin (1 KiB) is cached; large.bin (300 KiB) is over MaxFileSize and read from disk each time.
        await using var host = await ServingHost.StartAsync(ServingJson.Config(Locations()));
        using var lookups = Collect<long>(host, "production_serving.static.cache.requests");
        using var bytes = Collect<long>(host, "production_serving.static.bytes_sent");

        await host.Client.GetByteArrayAsync("/data.bin");
        await host.Client.GetByteArrayAsync("/data.bin");
        await host.Client.GetByteArrayAsync("/large.bin");
        using (var head = new HttpRequestMessage(HttpMethod.Head, "/data.bin"))
        {
            (await host.Client.SendAsync(head)).EnsureSuccessStatusCode();
        }

        using (var range = new HttpRequestMessage(HttpMethod.Get, "/data.bin"))
        {
            range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 99);
            Assert.Equal(HttpStatusCode.PartialContent, (await host.Client.SendAsync(range)).StatusCode);
        }

        var counted = await WaitAsync(lookups, 5);
        Assert.Equal(4, counted.Count(m => Equals(m.Tags["production_serving.cache.result"], "hit")));
        Assert.Equal(1, counted.Count(m => Equals(m.Tags["production_serving.cache.result"], "miss")));
        Assert.All(counted, m => Assert.Equal("/", m.Tags["production_serving.location"]));

        // HEAD sends no body; a range sends its bytes only.
        var sent = bytes.GetMeasurementSnapshot();
        Assert.Equal(1024 + 1024 + 300 * 1024 + 100, sent.Sum(m => m.Value));
    }

    [Fact]
    public async Task CacheSizeAndEntries_AreObserved()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(Locations()));
        using var size = Collect<long>(host, "production_serving.static.cache.size");
        using var entries = Collect<long>(host, "production_serving.static.cache.entries");

        await host.Client.GetByteArrayAsync("/data.bin");
        await host.Client.GetByteArrayAsync("/large.bin");
        size.RecordObservableInstruments();
        entries.RecordObservableInstruments();

        // Both files are known; only the small one's content is held in memory.
        Assert.Equal(1024, size.LastMeasurement!.Value);
        Assert.Equal(2, entries.LastMeasurement!.Value);
    }

    [Fact]
    public async Task StaticLocation_IsTheRouteOfAspNetCoresRequestMetric_AnAppLocationKeepsItsOwn()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(Locations()));
        using var aspNetCore = Collect<double>(host, "http.server.request.duration", meter: "Microsoft.AspNetCore.Hosting");

        await host.Client.GetStringAsync("/hello.txt");
        await host.Client.GetStringAsync("/app/x");

        var measurements = await WaitAsync(aspNetCore, 2);
        Assert.Equal("/", Assert.Single(measurements, m => m.Tags.ContainsKey("http.route")).Tags["http.route"]);
    }

    private static async Task<IReadOnlyList<CollectedMeasurement<T>>> WaitAsync<T>(MetricCollector<T> collector, int count)
        where T : struct
    {
        // The response can reach the client just before its end is recorded.
        await collector.WaitForMeasurementsAsync(count, TestTimeouts.Wait);
        return collector.GetMeasurementSnapshot();
    }
}
