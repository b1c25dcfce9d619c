using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>RequestTimeout (docs/pools.md, Request timeout): cancel through RequestAborted, 504 if nothing was sent, and a stuck worker is replaced so the pool keeps its capacity.</summary>
public sealed class RequestTimeoutTests
{
    private static async Task<(PoolTestApp App, FakeTimeProvider Time)> StartAsync(string pool)
    {
        var time = new FakeTimeProvider();
        var app = await PoolTestApp.StartAsync(PoolTestApp.Config(pool), services: s => s.AddSingleton<TimeProvider>(time));
        return (app, time);
    }

    [Fact]
    public async Task AppThatHonoursCancellation_Gets504_WhenNothingWasSent()
    {
        var (app, time) = await StartAsync(""" "p": { "MaxConcurrency": 2, "RequestTimeout": "00:00:02" } """);
        await using var _ = app;
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(a.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));
        using var answer = await a;

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.Equal("504 Gateway Timeout\n", await answer.Content.ReadAsStringAsync());
        Assert.Equal(0, app.Pool("p").Running);
        Assert.True(app.Host.Logs.HasEvent(4003, "Outcome", "Answered"));
        Assert.Equal("worked", await app.GetStringAsync("/work"));
    }

    [Fact]
    public async Task AppThatHandedOff_ThenHonouredTheTimeout_Gets504_NotTheHandOff()
    {
        // The app set X-Accel-Redirect and wrote (discarded, as a handing-off app's body is), then ran past
        // RequestTimeout: the pool's 504 answers, and the path the app named is not served.
        var (app, time) = await StartAsync(""" "p": { "MaxConcurrency": 2, "RequestTimeout": "00:00:02" } """);
        await using var _ = app;
        var a = app.Client.GetAsync("/partial/a?accel=/work");
        await app.Started("a");

        time.Advance(TimeSpan.FromSeconds(2));
        using var answer = await a;

        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        Assert.Equal("504 Gateway Timeout\n", await answer.Content.ReadAsStringAsync());
        Assert.False(answer.Headers.Contains("X-Accel-Redirect"));
        Assert.Equal(0, app.WorkStarted);
    }

    [Fact]
    public async Task TimeoutAfterTheResponseStarted_AbortsTheConnection()
    {
        var (app, time) = await StartAsync(""" "p": { "MaxConcurrency": 2, "RequestTimeout": "00:00:02" } """);
        await using var _ = app;
        using var response = await app.Client.GetAsync("/partial/a", HttpCompletionOption.ResponseHeadersRead);
        await app.Started("a");

        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Wait));
        await Poll.UntilAsync(
            () => app.Host.Logs.HasEvent(4003, "Outcome", "Aborted"),
            "the aborted response is logged");
    }

    [Fact]
    public async Task StuckDedicatedWorkers_AreReplaced_AndThePoolKeepsItsCapacity()
    {
        var (app, time) = await StartAsync(""" "p": { "DedicatedThreads": true, "Workers": 2, "QueueLimit": 0, "RequestTimeout": "00:00:01" } """);
        await using var _ = app;
        var pool = app.Pool("p");
        var stuck = new[] { app.Client.GetAsync("/block/0"), app.Client.GetAsync("/block/1") };
        await app.Started("0");
        await app.Started("1");

        time.Advance(TimeSpan.FromSeconds(1)); // canceled, but the blocked code does not look
        Assert.False(stuck[0].IsCompleted || stuck[1].IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1)); // the grace is over: answered and replaced

        foreach (var request in stuck)
        {
            using var answer = await request;
            Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
            Assert.True(answer.Headers.ConnectionClose);
        }

        Assert.Equal(2, pool.Replacements);
        Assert.Equal(2, app.Host.Logs.GetSnapshot().Count(r => r.Id.Id == 4004));

        // Both old threads are still blocked, yet two new requests run at once on fresh workers.
        var fresh = new[] { app.Client.GetAsync("/gate/x"), app.Client.GetAsync("/gate/y") };
        await app.Started("x");
        await app.Started("y");
        Assert.Equal(2, pool.Running);
        app.Open("x");
        app.Open("y");
        Assert.All(await Task.WhenAll(fresh), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        app.Unblock();
        await Poll.UntilAsync(() => app.Host.Logs.GetSnapshot().Count(r => r.Id.Id == 4006) == 2, "both replaced workers have ended");
    }

    [Fact]
    public async Task StuckRequestOnTheThreadPool_GivesItsSlotBack()
    {
        var (app, time) = await StartAsync(""" "p": { "MaxConcurrency": 1, "QueueLimit": 0, "RequestTimeout": "00:00:01" } """);
        await using var _ = app;
        var stuck = app.Client.GetAsync("/block/0");
        await app.Started("0");

        GiveUp(time);

        Assert.Equal(HttpStatusCode.GatewayTimeout, (await stuck).StatusCode);
        Assert.Equal(0, app.Pool("p").Running);
        Assert.Contains(app.Host.Logs.GetSnapshot(), r => r.Id.Id == 4005);
        Assert.Equal("worked", await app.GetStringAsync("/work"));
    }

    [Fact]
    public async Task RequestWithinItsTimeout_IsUntouched()
    {
        var (app, time) = await StartAsync(""" "p": { "DedicatedThreads": true, "Workers": 1, "RequestTimeout": "00:00:05" } """);
        await using var _ = app;
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        time.Advance(TimeSpan.FromSeconds(4));
        app.Open("a");

        Assert.Equal("done a", await (await a).Content.ReadAsStringAsync());
        time.Advance(TimeSpan.FromSeconds(10)); // the timer is gone with the request
        Assert.DoesNotContain(app.Host.Logs.GetSnapshot(), r => r.Id.Id is 4003 or 4004 or 4005);
        Assert.Equal(0, app.Pool("p").Replacements);
    }

    private static TimeSpan RequestDeadlineGrace => ProductionServing.Pools.RequestDeadline.AbandonGrace;

    /// <summary>Passes a 1 s RequestTimeout (the token is canceled) and then the grace (the pool gives up).</summary>
    private static void GiveUp(FakeTimeProvider time)
    {
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(RequestDeadlineGrace);
    }

    [Fact]
    public async Task GivenUpRequest_OnHttp2_DoesNotLendItsHttpContextToTheNextStream()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "DedicatedThreads": true, "Workers": 2, "RequestTimeout": "00:00:01" } """),
            services: s => s.AddSingleton<TimeProvider>(time), protocols: HttpProtocols.Http2);
        using var client = new HttpClient
        {
            BaseAddress = app.Client.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TestTimeouts.Wait,
        };
        var stuck = client.GetAsync("/block/0");
        await app.Started("0");
        GiveUp(time);
        using (var answer = await stuck)
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        }

        // The next stream on the same connection is in flight when the stuck code wakes up and writes.
        var next = client.GetAsync("/gate/x");
        await app.Started("x");
        app.Unblock();
        await app.Finished("0");
        app.Open("x");

        using var response = await next;
        Assert.Equal("done x", await response.Content.ReadAsStringAsync());
        using var later = await client.GetAsync("/work");
        Assert.Equal("worked", await later.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task StuckWorker_EndsWhenItReturns_AfterAReloadDroppedTheDedicatedThreads()
    {
        var (app, time) = await StartAsync(""" "p": { "DedicatedThreads": true, "Workers": 1, "RequestTimeout": "00:00:01" } """);
        await using var _ = app;
        var stuck = app.Client.GetAsync("/block/0");
        await app.Started("0");
        var worker = app.ThreadsSeen.Keys.Single();

        app.Host.Reload(("ProductionServing:Pools:p:DedicatedThreads", "false"), ("ProductionServing:Pools:p:Workers", null));
        GiveUp(time);

        Assert.Equal(HttpStatusCode.GatewayTimeout, (await stuck).StatusCode);
        Assert.EndsWith("|True", (await app.GetStringAsync("/thread")).Split('\n')[0], StringComparison.Ordinal);
        app.Unblock();
        Assert.True(worker.Join(TestTimeouts.Wait), "the stuck worker ended once it returned");
    }

    [Fact]
    public async Task StuckRequests_FreeAtMostTheirPoolsLimitInSlots()
    {
        var (app, time) = await StartAsync(""" "p": { "MaxConcurrency": 1, "QueueLimit": 0, "RequestTimeout": "00:00:01" } """);
        await using var _ = app;
        var pool = app.Pool("p");
        var first = app.Client.GetAsync("/block/0");
        await app.Started("0");
        GiveUp(time);
        Assert.Equal(HttpStatusCode.GatewayTimeout, (await first).StatusCode);

        // One stuck request got its slot freed; a second one that sticks keeps its slot.
        var second = app.Client.GetAsync("/block/1");
        await app.Started("1");
        GiveUp(time);
        Assert.Equal(HttpStatusCode.GatewayTimeout, (await second).StatusCode);
        Assert.Equal(1, pool.Running);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client.GetAsync("/work")).StatusCode);
        Assert.Contains(app.Host.Logs.GetSnapshot(), r => r.Id.Id == 4009);

        app.Unblock();
        await Poll.UntilAsync(() => pool.IsIdle, "both stuck requests have ended");
        Assert.Equal("worked", await app.GetStringAsync("/work"));
    }
}
