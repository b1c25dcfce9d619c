using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Configuration;
using ProductionServing.Diagnostics;
using ProductionServing.Status;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Status;

/// <summary>The status page's monitor follows the configuration: it counts and samples only while the page is configured.</summary>
public sealed class StatusMonitorTests
{
    [Fact]
    public void Monitor_StartsWithTheStatusPage_StopsWithoutIt_AndStartsAfresh()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new ServingMetrics(services.GetRequiredService<IMeterFactory>(), new ProductionServing.Static.FileCacheBudget());
        var time = new TimerCountingTimeProvider();
        var environment = TestConfig.Environment();
        using var monitor = new StatusMonitor(metrics, environment.Pools, environment.Upstreams, environment.FileCacheBudget, time);
        var without = Compile(status: false, environment);
        var with = Compile(status: true, environment);

        monitor.Follow(without);
        Assert.False(monitor.IsRunning);
        Assert.False(metrics.RequestDurationEnabled);
        Assert.Equal(0, time.Created(TimeSpan.FromSeconds(1)));

        monitor.Follow(with);
        Assert.True(monitor.IsRunning);
        Assert.True(metrics.RequestDurationEnabled);
        Assert.Equal(1, time.Created(TimeSpan.FromSeconds(1)));
        var first = monitor.Figures;
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, first.FindPool("default")!.Busy.ToArray().Length);

        monitor.Follow(without);
        Assert.False(monitor.IsRunning);
        Assert.False(metrics.RequestDurationEnabled);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, first.FindPool("default")!.Busy.ToArray().Length);

        monitor.Follow(with);
        Assert.True(monitor.IsRunning);
        Assert.NotSame(first, monitor.Figures);
        Assert.Equal(2, time.Created(TimeSpan.FromSeconds(1)));
    }

    private static ServingSnapshot Compile(bool status, ServingEnvironment environment)
    {
        var options = new ProductionServingOptions { Status = status ? new StatusOptions { Path = "/_serving" } : null };
        options.Locations.Add(new LocationOptions { Match = "/", App = new AppOptions() });
        return ServingSnapshot.Compile(options, environment);
    }
}
