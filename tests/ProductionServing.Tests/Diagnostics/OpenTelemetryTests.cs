using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Diagnostics;

/// <summary>
/// The OpenTelemetry setup of docs/observability.md, as an app writes it (<c>AddOpenTelemetry().WithMetrics(m =&gt;
/// m.AddMeter("ProductionServing"))</c>), exports ProductionServing's instruments: here to memory, where an
/// app would use OTLP or Prometheus.
/// </summary>
public sealed class OpenTelemetryTests
{
    /// <summary>
    /// A location no other test has: a MeterProvider listens to every meter of that name in the process,
    /// the hosts of tests running at the same time included, so this test counts its own location only.
    /// </summary>
    private const string Location = "/open-telemetry-test/";

    [Fact]
    public async Task AddMeter_ExportsTheRequestMetricWithItsTags()
    {
        var exported = new List<MetricSnapshot>();
        await using var host = await ServingHost.StartAsync(
            ServingJson.Config($$"""{ "Match": "{{Location}}", "App": {} }"""),
            services: services => services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter("ProductionServing")
                .AddInMemoryExporter(exported)));

        await host.Client.GetStringAsync(Location + "hello");
        await host.Client.GetStringAsync(Location + "hello");

        // The response can reach the client just before its end is recorded: flush until both are in.
        // The reader's own periodic export may add to the list at any time, even between the clear and the copy (a
        // second batch, seen once in CI): assert on a copy that holds one batch with both requests in.
        var provider = host.App.Services.GetRequiredService<MeterProvider>();
        List<MetricSnapshot> seen = [];
        await Poll.UntilAsync(() =>
        {
            exported.Clear();
            provider.ForceFlush();
            seen = [.. exported];

            return seen.Count(m => m.Name == "production_serving.request.duration") == 1 && Count(seen, "production_serving.request.duration") == 2;
        }, "both requests exported");

        var metric = Assert.Single(seen, m => m.Name == "production_serving.request.duration");
        Assert.Equal("s", metric.Unit);
        var points = metric.MetricPoints.Where(p => Equals(Tags(p).GetValueOrDefault("production_serving.location"), Location)).ToList();
        Assert.True(points.Count == 1, "points with the location's tag: " + string.Join(" | ", points.Select(p =>
            string.Join(", ", Tags(p).Select(tag => $"{tag.Key}={tag.Value}")) + $" (count {p.GetHistogramCount()})")));
        var point = points[0];
        Assert.Equal("app", Tags(point)["production_serving.handler"]);
        Assert.Equal(200, Tags(point)["http.response.status_code"]);
    }

    private static Dictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return tags;
    }

    private static long Count(List<MetricSnapshot> exported, string name)
    {
        long count = 0;
        foreach (var metric in exported)
        {
            if (metric.Name != name)
            {
                continue;
            }

            foreach (var point in metric.MetricPoints)
            {
                if (Equals(Tags(point).GetValueOrDefault("production_serving.location"), Location))
                {
                    count += point.GetHistogramCount();
                }
            }
        }

        return count;
    }
}
