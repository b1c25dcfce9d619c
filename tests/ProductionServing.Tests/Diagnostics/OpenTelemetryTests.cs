using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Diagnostics;

/// <summary>
/// The README's OpenTelemetry setup, as an app writes it (<c>AddOpenTelemetry().WithMetrics(m =&gt;
/// m.AddMeter("ProductionServing"))</c>), exports ProductionServing's instruments: here to memory, where an
/// app would use OTLP or Prometheus.
/// </summary>
public sealed class OpenTelemetryTests
{
    [Fact]
    public async Task AddMeter_ExportsTheRequestMetricWithItsTags()
    {
        var exported = new List<MetricSnapshot>();
        await using var host = await ServingHost.StartAsync(
            ServingJson.Config("""{ "Match": "/", "App": {} }"""),
            services: services => services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter("ProductionServing")
                .AddInMemoryExporter(exported)));

        await host.Client.GetStringAsync("/hello");
        await host.Client.GetStringAsync("/hello");

        // The response can reach the client just before its end is recorded: flush until both are in.
        var provider = host.App.Services.GetRequiredService<MeterProvider>();
        await Poll.UntilAsync(() =>
        {
            exported.Clear();
            provider.ForceFlush();
            return Count(exported, "production_serving.request.duration") == 2;
        }, "both requests exported");

        var metric = Assert.Single(exported, m => m.Name == "production_serving.request.duration");
        Assert.Equal("s", metric.Unit);
        foreach (var point in metric.MetricPoints)
        {
            var tags = new Dictionary<string, object?>();
            foreach (var tag in point.Tags)
            {
                tags[tag.Key] = tag.Value;
            }

            Assert.Equal("/", tags["production_serving.location"]);
            Assert.Equal("app", tags["production_serving.handler"]);
        }
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
                count += point.GetHistogramCount();
            }
        }

        return count;
    }
}
