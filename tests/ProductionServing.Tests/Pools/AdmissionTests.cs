using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>Admission (docs/pools.md, Admission): at most the limit runs, up to QueueLimit waits in order, the rest get 503 + Retry-After without running the app.</summary>
public sealed class AdmissionTests
{
    private static readonly string OneSlotOneQueued = PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 1 } """);

    [Fact]
    public async Task FullQueue_Answers503WithRetryAfter_WithoutRunningTheApp()
    {
        await using var app = await PoolTestApp.StartAsync(OneSlotOneQueued);
        var pool = app.Pool("p");
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var b = app.Client.GetAsync("/gate/b");
        await Poll.UntilAsync(() => pool.QueueLength == 1, "b waits");

        using var c = await app.Client.GetAsync("/gate/c");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, c.StatusCode);
        Assert.Equal("1", c.Headers.GetValues("Retry-After").Single());
        Assert.Equal("503 Service Unavailable\n", await c.Content.ReadAsStringAsync());
        Assert.Equal(["a"], app.StartOrder);

        app.Open("a");
        app.Open("b");
        Assert.Equal("done a", await (await a).Content.ReadAsStringAsync());
        Assert.Equal("done b", await (await b).Content.ReadAsStringAsync());
        Assert.Equal(["a", "b"], app.StartOrder);
        Assert.Equal(1, app.MaxRunning);
        Assert.Equal(0, pool.Running);
    }

    [Fact]
    public async Task HeadRequest_Gets503HeadersWithoutABody()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 0 } """));
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        using var head = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/gate/b"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, head.StatusCode);
        Assert.Equal("1", head.Headers.GetValues("Retry-After").Single());
        Assert.Equal(24, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        app.Open("a");
        await a;
    }

    [Fact]
    public async Task QueuedRequestCanceledByOuterMiddleware_IsAnsweredByIt_NotWithAnEmpty200()
    {
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 5 } """),
            services: s => s.AddRequestTimeouts(o => o.DefaultPolicy = new Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutPolicy { Timeout = TimeSpan.FromMilliseconds(300) }),
            beforeServing: web => web.UseRequestTimeouts());
        var a = app.Client.GetAsync("/block/a"); // holds the only slot past everyone's timeout
        await app.Started("a");

        using var queued = await app.Client.GetAsync("/gate/b");

        Assert.Equal(HttpStatusCode.GatewayTimeout, queued.StatusCode);
        Assert.Equal(["a"], app.StartOrder);
        app.Unblock();
        await a;
    }

    [Fact]
    public async Task NoQueue_RejectsAtOnceWhenTheSlotsAreTaken()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 2, "QueueLimit": 0 } """));
        var a = app.Client.GetAsync("/gate/a");
        var b = app.Client.GetAsync("/gate/b");
        await app.Started("a");
        await app.Started("b");

        using var c = await app.Client.GetAsync("/gate/c");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, c.StatusCode);
        app.Open("a");
        app.Open("b");
        Assert.Equal(HttpStatusCode.OK, (await a).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/echo")).StatusCode);
    }

    [Fact]
    public async Task QueuedRequests_RunInArrivalOrder_AsSlotsFree()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 10 } """));
        var pool = app.Pool("p");
        var first = app.Client.GetAsync("/gate/0");
        await app.Started("0");
        var queued = new List<Task<HttpResponseMessage>>();
        for (var i = 1; i <= 5; i++)
        {
            queued.Add(app.Client.GetAsync($"/gate/{i}"));
            var expected = i;
            await Poll.UntilAsync(() => pool.QueueLength == expected, $"{i} requests wait");
        }

        for (var i = 0; i <= 5; i++)
        {
            app.Open(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await Task.WhenAll(queued.Append(first));
        Assert.Equal(["0", "1", "2", "3", "4", "5"], app.StartOrder);
        Assert.Equal(1, app.MaxRunning);
    }

    [Fact]
    public async Task QueueTimeout_Answers503WithRetryAfter_WithoutRunningTheApp()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 5, "QueueTimeout": "00:00:05" } """),
            services: s => s.AddSingleton<TimeProvider>(time));
        var pool = app.Pool("p");
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        var b = app.Client.GetAsync("/gate/b");
        await Poll.UntilAsync(() => pool.QueueLength == 1, "b waits");

        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(b.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));
        using var answer = await b;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.Equal("1", answer.Headers.GetValues("Retry-After").Single());
        Assert.Equal(0, pool.QueueLength);
        app.Open("a");
        Assert.Equal(HttpStatusCode.OK, (await a).StatusCode);
        Assert.Equal(["a"], app.StartOrder);
        Assert.True(app.Host.Logs.HasEvent(4001, "Reason", "QueueTimeout"));
    }

    [Fact]
    public async Task ClientThatLeavesTheQueue_FreesItsPlace_AndNeverRuns()
    {
        await using var app = await PoolTestApp.StartAsync(OneSlotOneQueued);
        var pool = app.Pool("p");
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");
        using (var leaving = new CancellationTokenSource())
        {
            var b = app.Client.GetAsync("/gate/b", leaving.Token);
            await Poll.UntilAsync(() => pool.QueueLength == 1, "b waits");
            leaving.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        }

        await Poll.UntilAsync(() => pool.QueueLength == 0, "b has left the queue");
        var c = app.Client.GetAsync("/gate/c");
        await Poll.UntilAsync(() => pool.QueueLength == 1, "c takes the place b left");
        app.Open("a");
        app.Open("c");
        Assert.Equal(HttpStatusCode.OK, (await a).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await c).StatusCode);
        Assert.Equal(["a", "c"], app.StartOrder);
        Assert.Equal(0, pool.Running);
    }

    [Fact]
    public async Task PoolNull_RunsDirectly_WhileThePoolIsSaturated()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 0 } """));
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        Assert.Equal("1|= /healthz|App||/healthz", await app.GetStringAsync("/healthz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client.GetAsync("/other")).StatusCode);
        app.Open("a");
        await a;
    }

    [Fact]
    public async Task UnmatchedRequests_GoThroughTheDefaultPool()
    {
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(
            """ "default": { "MaxConcurrency": 1, "QueueLimit": 0 } """,
            locations: """{ "Match": "= /healthz", "App": { "Pool": null } }"""));
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client.GetAsync("/unmatched")).StatusCode);
        Assert.Equal(1, app.Pool("default").Running);
        app.Open("a");
        Assert.Equal(HttpStatusCode.OK, (await a).StatusCode);
        Assert.Equal("-1||App|default|/unmatched", await app.GetStringAsync("/unmatched"));
    }

    [Fact]
    public async Task DefaultPool_ExistsWithoutConfiguration_WithTheDocumentedDefaults()
    {
        await using var app = await PoolTestApp.StartAsync("""{ "ProductionServing": { } }""");

        Assert.Equal("-1||App|default|/x", await app.GetStringAsync("/x"));
        var settings = app.Pool("default").Settings;
        Assert.Equal((256, 1024, TimeSpan.FromSeconds(10), 0, false), (settings.Limit, settings.QueueLimit, settings.QueueTimeout, settings.Workers, settings.AdaptiveLifo));
    }

    [Fact]
    public async Task AppExceptions_ReachTheExceptionHandler_AndGiveTheSlotBack()
    {
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 0 } """),
            beforeServing: web => web.UseDeveloperExceptionPage());

        using var failed = await app.Client.GetAsync("/throw");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Contains("the app failed", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, app.Pool("p").Running);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/echo")).StatusCode);
    }

    [Fact]
    public async Task ExceptionHandlerReExecution_RunsThroughThePoolAgain_AfterTheFailedRequestLeftIt()
    {
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "MaxConcurrency": 1, "QueueLimit": 0 } """),
            beforeServing: web => web.UseExceptionHandler("/error"));

        using var failed = await app.Client.GetAsync("/throw");

        // One slot: the re-executed /error could not run if the failed request still held it.
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("0|/|App|p|/error", await failed.Content.ReadAsStringAsync());
        Assert.Equal(0, app.Pool("p").Running);
    }

    [Fact]
    public async Task TryFilesAppFallback_GoesThroughTheDefaultPool_WhileFilesStayServed()
    {
        using var site = new ProductionServing.Tests.Infrastructure.StaticSite();
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "default": { "MaxConcurrency": 1, "QueueLimit": 0 } """,
                locations: """{ "Match": "/", "Static": { "Root": ".", "TryFiles": ["$uri", "@app"] } }"""),
            contentRoot: site.Root);
        var a = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client.GetAsync("/gate/b")).StatusCode);
        Assert.Equal("hello world", await app.GetStringAsync("/hello.txt"));
        app.Open("a");
        Assert.Equal(HttpStatusCode.OK, (await a).StatusCode);
    }
}
