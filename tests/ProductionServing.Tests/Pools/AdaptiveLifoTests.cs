using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>QueueOrder AdaptiveLifo (docs/pools.md, Adaptive LIFO): once the queue has stood past the target over an interval, newest first, and the old are shed with 503.</summary>
public sealed class AdaptiveLifoTests
{
    [Fact]
    public async Task StandingQueue_ShedsTheOld_AndServesTheNewestFirst()
    {
        var (app, time) = await StartAsync("AdaptiveLifo");
        await using var _ = app;
        var (old, fresh) = await BuildStandingQueueAsync(app, time);

        foreach (var request in old)
        {
            using var response = await request;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        }

        app.Open("a");
        await app.Started("b5");
        app.Open("b5");
        await app.Started("b4");
        app.Open("b4");
        Assert.All(await Task.WhenAll(fresh), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(["a", "b5", "b4"], app.StartOrder);
        Assert.True(app.Host.Logs.HasEvent(4001, "Reason", "Shed"));
    }

    [Fact]
    public async Task FullStandingQueue_ShedsItsOldestForANewcomer()
    {
        var (app, time) = await StartAsync("AdaptiveLifo", queueLimit: 2);
        await using var _ = app;
        var pool = app.Pool("p");
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var early = app.Client.GetAsync("/gate/b1");
        await Poll.UntilAsync(() => pool.QueueLength == 1, "b1 waits");
        time.Advance(TimeSpan.FromMilliseconds(101));
        var b2 = app.Client.GetAsync("/gate/b2");
        await Poll.UntilAsync(() => pool.QueueLength == 2, "b2 waits");
        time.Advance(TimeSpan.FromMilliseconds(101));

        // The queue stands: b1 and b2 are past the target and shed as c1 arrives; c2 fills the queue,
        // and c3 finds it full: the oldest waiter, c1, is shed for it.
        var c1 = app.Client.GetAsync("/gate/c1");
        await Poll.UntilAsync(() => pool.QueueLength == 1, "c1 waits alone");
        var c2 = app.Client.GetAsync("/gate/c2");
        await Poll.UntilAsync(() => pool.QueueLength == 2, "c2 waits");
        var c3 = app.Client.GetAsync("/gate/c3");

        foreach (var shed in new[] { early, b2, c1 })
        {
            using var response = await shed;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        Assert.Equal(2, pool.QueueLength);
        app.Open("a");
        await app.Started("c3");
        app.Open("c3");
        await app.Started("c2");
        app.Open("c2");
        Assert.All(await Task.WhenAll(a, c2, c3), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(["a", "c3", "c2"], app.StartOrder);
    }

    [Fact]
    public async Task Fifo_ServesTheSameArrivalsInOrder_AndShedsNothing()
    {
        var (app, time) = await StartAsync("Fifo");
        await using var _ = app;
        var (old, fresh) = await BuildStandingQueueAsync(app, time);

        string[] order = ["a", "b1", "b2", "b3", "b4", "b5"];
        foreach (var id in order)
        {
            await app.Started(id);
            app.Open(id);
        }

        Assert.All(await Task.WhenAll(old.Concat(fresh)), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(order, app.StartOrder);
    }

    [Fact]
    public async Task ABurstThatDrains_IsNotAStandingQueue()
    {
        var (app, time) = await StartAsync("AdaptiveLifo");
        await using var _ = app;
        var pool = app.Pool("p");
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var b = app.Client.GetAsync("/gate/b");
        await Poll.UntilAsync(() => pool.QueueLength == 1, "b waits");
        time.Advance(TimeSpan.FromMilliseconds(50));
        app.Open("a");
        await app.Started("b"); // the queue emptied within the interval
        time.Advance(TimeSpan.FromMilliseconds(200));
        var c = app.Client.GetAsync("/gate/c");
        await Poll.UntilAsync(() => pool.QueueLength == 1, "c waits");
        time.Advance(TimeSpan.FromMilliseconds(60)); // c is past the target, but the queue did not stand over an interval
        app.Open("b");
        await app.Started("c");
        app.Open("c");
        Assert.All(await Task.WhenAll(a, b, c), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    private static async Task<(PoolTestApp App, FakeTimeProvider Time)> StartAsync(string order, int queueLimit = 10)
    {
        var time = new FakeTimeProvider();
        var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config($$""" "p": { "MaxConcurrency": 1, "QueueLimit": {{queueLimit}}, "QueueOrder": "{{order}}", "TargetQueueDelay": "00:00:00.005" } """),
            services: s => s.AddSingleton<TimeProvider>(time));
        return (app, time);
    }

    /// <summary>
    /// a runs; b1 and b2 queue at 0 ms, b3 at 101 ms, b4 and b5 at 202 ms. The queue has then been
    /// occupied for a whole 100 ms interval, so under AdaptiveLifo b1–b3 (older than 5 ms) are shed when
    /// b4 arrives. Returns b1–b3 and b4–b5.
    /// </summary>
    private static async Task<(Task<HttpResponseMessage>[] Old, Task<HttpResponseMessage>[] Fresh)> BuildStandingQueueAsync(PoolTestApp app, FakeTimeProvider time)
    {
        var pool = app.Pool("p");
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var old = new List<Task<HttpResponseMessage>> { Queue("b1"), };
        await Poll.UntilAsync(() => pool.QueueLength == 1, "b1 waits");
        old.Add(Queue("b2"));
        await Poll.UntilAsync(() => pool.QueueLength == 2, "b2 waits");
        time.Advance(TimeSpan.FromMilliseconds(101));
        old.Add(Queue("b3"));
        await Poll.UntilAsync(() => pool.QueueLength == 3, "b3 waits");
        time.Advance(TimeSpan.FromMilliseconds(101));
        var b4 = Queue("b4");
        await Poll.UntilAsync(() => pool.QueueLength is 1 or 4, "b4 arrives");
        var b5 = Queue("b5");
        await Poll.UntilAsync(() => pool.QueueLength is 2 or 5, "b5 waits");
        return (old.ToArray(), [a, b4, b5]);

        Task<HttpResponseMessage> Queue(string id) => app.Client.GetAsync($"/gate/{id}");
    }
}
