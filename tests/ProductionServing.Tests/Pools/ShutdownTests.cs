using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>Shutdown (docs/pools.md, Shutdown): new arrivals get 503, queued and running requests drain, nothing admitted is dropped, dedicated threads end.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_Answers503ToNewArrivals_AndDrainsQueuedAndRunningRequests()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(
            """ "p": { "DedicatedThreads": true, "Workers": 2, "QueueLimit": 10 } """));
        var pool = app.Pool("p");
        var admitted = Enumerable.Range(0, 5).Select(i => app.Client.GetAsync($"/gate/{i}")).ToList();
        await Poll.UntilAsync(() => pool.Running == 2 && pool.QueueLength == 3, "two run, three wait");

        // ApplicationStopping comes first; Kestrel stops listening when the host stops its server.
        app.Host.App.Lifetime.StopApplication();
        using var late = await app.Client.GetAsync("/gate/late");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
        Assert.Equal("1", late.Headers.GetValues("Retry-After").Single());
        var stopping = app.Host.App.StopAsync();
        for (var i = 0; i < 5; i++)
        {
            app.Open(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (var request in admitted)
        {
            using var response = await request;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await stopping.WaitAsync(TestTimeouts.Wait);
        Assert.DoesNotContain("late", app.StartOrder);
        Assert.Equal(2, app.ThreadsSeen.Count);
        Assert.All(app.ThreadsSeen.Keys, thread => Assert.True(thread.Join(TestTimeouts.Wait), $"{thread.Name} has not ended"));
    }

    [Fact]
    public async Task StandingAdaptiveLifoQueue_WhenStopping_RunsEveryWaiterOldestFirst_AndShedsNone()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 10, "QueueOrder": "AdaptiveLifo", "TargetQueueDelay": "00:00:00.005" } """),
            services: s => s.AddSingleton<TimeProvider>(time));
        var pool = app.Pool("p");
        var running = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        // b1 and b2 wait over two 100 ms intervals: the queue stands, and b3's arrival sheds them (normal
        // operation). b3 and b4 then wait in the standing queue until both are past the target.
        var shed = new[] { app.Client.GetAsync("/gate/b1") };
        await Poll.UntilAsync(() => pool.QueueLength == 1, "b1 waits");
        time.Advance(TimeSpan.FromMilliseconds(101));
        shed = [.. shed, app.Client.GetAsync("/gate/b2")];
        await Poll.UntilAsync(() => pool.QueueLength == 2, "b2 waits");
        time.Advance(TimeSpan.FromMilliseconds(101));
        var b3 = app.Client.GetAsync("/gate/b3");
        foreach (var request in shed)
        {
            using var response = await request;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        await Poll.UntilAsync(() => pool.QueueLength == 1, "b3 waits");
        var b4 = app.Client.GetAsync("/gate/b4");
        await Poll.UntilAsync(() => pool.QueueLength == 2, "b4 waits");
        time.Advance(TimeSpan.FromMilliseconds(50));

        // The host stops with the queue standing: the waiters were admitted, and no newer request can come
        // for shedding to make room for, so they run, oldest first.
        var stopping = app.Host.App.StopAsync();
        app.Open("a");
        foreach (var id in new[] { "b3", "b4" })
        {
            await app.Started(id);
            app.Open(id);
        }

        foreach (var request in new[] { running, b3, b4 })
        {
            using var response = await request;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await stopping.WaitAsync(TestTimeouts.Wait);
        Assert.Equal(["a", "b3", "b4"], app.StartOrder);
    }

    [Fact]
    public async Task RequestsStillQueued_WhenTheShutdownTimeoutNears_Get503()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 10, "QueueTimeout": "00:01:00" } """),
            services: s =>
            {
                s.AddSingleton<TimeProvider>(time);
                s.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
            });
        var pool = app.Pool("p");
        var running = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var queued = new[] { app.Client.GetAsync("/gate/b"), app.Client.GetAsync("/gate/c") };
        await Poll.UntilAsync(() => pool.QueueLength == 2, "two wait");

        var stopping = app.Host.App.StopAsync();
        time.Advance(TimeSpan.FromSeconds(18.9));
        Assert.False(queued[0].IsCompleted || queued[1].IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1)); // 20 s less 10 %, at most 1 s

        foreach (var request in queued)
        {
            using var response = await request;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        }

        await Poll.UntilAsync(
            () => app.Host.Logs.HasEvent(4008, "Count", "2"),
            "the dropped queue is logged");
        app.Open("a");
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        await stopping.WaitAsync(TestTimeouts.Wait);
        Assert.Equal(["a"], app.StartOrder);
    }
}
