using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>Reload (docs/pools.md, Reload): a reloaded pool takes its new limits without dropping what it holds.</summary>
public sealed class PoolReloadTests
{
    [Fact]
    public async Task RaisedLimit_AdmitsWaitingRequestsAtOnce()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 10 } """));
        var pool = app.Pool("p");
        var requests = Enumerable.Range(0, 3).Select(i => app.Client.GetAsync($"/gate/{i}")).ToList();
        await Poll.UntilAsync(() => pool.Running == 1 && pool.QueueLength == 2, "one runs, two wait");

        app.Host.Reload(("ProductionServing:Pools:p:MaxConcurrency", "3"));

        await app.Started("0");
        await app.Started("1");
        await app.Started("2");
        Assert.Same(pool, app.Pool("p"));
        for (var i = 0; i < 3; i++)
        {
            app.Open(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.All(await Task.WhenAll(requests), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Fact]
    public async Task LoweredLimit_AdmitsNoOneUntilEnoughRequestsEnd_AndKeepsTheQueue()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 2, "QueueLimit": 10 } """));
        var pool = app.Pool("p");
        var a = app.Client.GetAsync("/gate/a");
        var b = app.Client.GetAsync("/gate/b");
        await app.Started("a");
        await app.Started("b");
        var c = app.Client.GetAsync("/gate/c");
        await Poll.UntilAsync(() => pool.QueueLength == 1, "c waits");

        app.Host.Reload(("ProductionServing:Pools:p:MaxConcurrency", "1"));
        app.Open("a");
        Assert.Equal(HttpStatusCode.OK, (await a).StatusCode);
        Assert.Equal(1, pool.QueueLength); // b still runs: one is the new limit

        app.Open("b");
        await app.Started("c");
        app.Open("c");
        Assert.Equal(HttpStatusCode.OK, (await b).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await c).StatusCode);
        Assert.Equal("c", app.StartOrder.Last());
    }

    [Fact]
    public async Task SwitchingToDedicatedThreads_RunsLaterRequestsOnWorkers()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 4 } """));
        Assert.EndsWith("|True", (await app.GetStringAsync("/thread")).Split('\n')[0], StringComparison.Ordinal);

        app.Host.Reload(("ProductionServing:Pools:p:DedicatedThreads", "true"), ("ProductionServing:Pools:p:Workers", "2"));

        Assert.StartsWith("ProductionServing worker p#", await app.GetStringAsync("/thread"), StringComparison.Ordinal);
        var both = new[] { app.Client.GetAsync("/gate/x"), app.Client.GetAsync("/gate/y"), app.Client.GetAsync("/gate/z") };
        await Poll.UntilAsync(() => app.Pool("p").Running == 2 && app.Pool("p").QueueLength == 1, "two workers run, one waits");
        app.Open("x");
        app.Open("y");
        app.Open("z");
        Assert.All(await Task.WhenAll(both), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Fact]
    public async Task RejectedReload_LeavesThePoolAsItWas()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 0 } """));
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        app.Host.Reload(("ProductionServing:Pools:p:MaxConcurrency", "5"), ("ProductionServing:Locations:0:Match", "~~ bad"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client.GetAsync("/gate/b")).StatusCode);
        app.Open("a");
        await a;
    }
}
