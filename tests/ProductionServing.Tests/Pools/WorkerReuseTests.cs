using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Pools;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>
/// A dedicated worker hands each of its requests to the app through one reused object: what one request
/// leaves behind (its async locals, those left on the worker's thread, its outcome, bodies the app kept, a
/// stuck worker's late end) never reaches the next one, and each request's outcome is read exactly once.
/// </summary>
public sealed class WorkerReuseTests
{
    private static string Dedicated(int workers, string extra = "") => PoolTestApp.Config(
        $$""" "slow": { "DedicatedThreads": true, "Workers": {{workers}} {{extra}} } """,
        locations: """{ "Match": "/", "App": { "Pool": "slow" } }""");

    [Fact]
    public async Task ConsecutiveRequests_OnOneWorker_SeeOnlyTheirOwnContextAndAsyncLocals()
    {
        var flowed = new AsyncLocal<string?>();
        var setByApp = new AsyncLocal<string?>();
        await using var host = await ServingHost.StartAsync(Dedicated(workers: 1),
            services: s => s.AddHttpContextAccessor(),
            beforeServing: web => web.Use((context, next) =>
            {
                // Only some requests bring a value: the others must not see an earlier request's.
                if (context.Request.Query.TryGetValue("flow", out var value))
                {
                    flowed.Value = value;
                }

                return next(context);
            }),
            afterServing: web => web.Run(context =>
            {
                var seen = $"{context.Request.Path}|{flowed.Value ?? "-"}|{setByApp.Value ?? "-"}";

                // Set synchronously, on the worker's own ExecutionContext as far as this code can tell.
                setByApp.Value = context.Request.Path;
                return AnswerAsync(context, seen);
            }));

        for (var round = 0; round < 3; round++)
        {
            Assert.Equal("/a|one|-|True|one|True|ProductionServing worker slow#1", await host.Client.GetStringAsync("/a?flow=one"));
            Assert.Equal("/b|-|-|True|-|True|ProductionServing worker slow#1", await host.Client.GetStringAsync("/b"));
            using var other = new HttpClient { BaseAddress = host.Client.BaseAddress }; // another connection, the same worker
            Assert.Equal("/c|three|-|True|three|True|ProductionServing worker slow#1", await other.GetStringAsync("/c?flow=three"));
        }

        async Task AnswerAsync(HttpContext context, string seen)
        {
            var accessor = context.RequestServices.GetRequiredService<IHttpContextAccessor>();
            var current = ReferenceEquals(accessor.HttpContext, context);
            await Task.Yield(); // back on the worker, through its queue
            await context.Response.WriteAsync(
                $"{seen}|{current}|{flowed.Value ?? "-"}|{ReferenceEquals(accessor.HttpContext, context)}|{Thread.CurrentThread.Name}");
        }
    }

    [Fact]
    public async Task OutcomesStayWithTheirRequest_OnOneWorker()
    {
        await using var host = await ServingHost.StartAsync(Dedicated(workers: 1), afterServing: web => web.Use((context, next) =>
            context.Request.Path.Value switch
            {
                "/throw" => throw new InvalidOperationException("thrown before the app's task exists"),
                "/fault" => FaultAsync(),
                "/cancel" => Task.FromCanceled(new CancellationToken(canceled: true)),
                "/slow" => SlowAsync(context),
                _ => next(context),
            }));

        for (var round = 0; round < 2; round++)
        {
            Assert.Equal(HttpStatusCode.InternalServerError, (await host.Client.GetAsync("/throw")).StatusCode);
            Assert.Equal("0|/|App|slow|/ok", await host.Client.GetStringAsync("/ok"));
            Assert.Equal(HttpStatusCode.InternalServerError, (await host.Client.GetAsync("/fault")).StatusCode);
            Assert.Equal("0|/|App|slow|/ok", await host.Client.GetStringAsync("/ok"));
            Assert.Equal(HttpStatusCode.InternalServerError, (await host.Client.GetAsync("/cancel")).StatusCode);
            Assert.Equal("slow", await host.Client.GetStringAsync("/slow"));
            Assert.Equal("0|/|App|slow|/ok", await host.Client.GetStringAsync("/ok"));
        }

        static async Task FaultAsync()
        {
            await Task.Yield();
            throw new InvalidOperationException("the app's task faults");
        }

        static async Task SlowAsync(HttpContext context)
        {
            await Task.Delay(1);
            await context.Response.WriteAsync("slow");
        }
    }

    [Fact]
    public async Task BodiesKeptPastTheirRequest_NeverReachTheNextRequestOnTheWorker()
    {
        Stream? requestBody = null;
        PipeReader? bodyReader = null;
        Stream? responseBody = null;
        PipeWriter? bodyWriter = null;
        IHttpResponseBodyFeature? responseFeature = null;
        await using var host = await ServingHost.StartAsync(Dedicated(workers: 1), afterServing: web => web.Use(async (context, next) =>
        {
            if (context.Request.Path == "/keep")
            {
                requestBody = context.Request.Body;
                bodyReader = context.Request.BodyReader;
                responseBody = context.Response.Body;
                bodyWriter = context.Response.BodyWriter;
                responseFeature = context.Features.Get<IHttpResponseBodyFeature>();
                await context.Response.WriteAsync("kept");
                return;
            }

            if (context.Request.Path == "/next")
            {
                // The app uses what it kept from the earlier request while this one runs on the same worker.
                // What the server does with them is its business; this request must not see any of it.
                await Quietly(async () => await responseBody!.WriteAsync("LEAK1"u8.ToArray()));
                await Quietly(async () => await bodyWriter!.WriteAsync("LEAK2"u8.ToArray()));
                await Quietly(async () => await responseFeature!.Writer.WriteAsync("LEAK3"u8.ToArray()));
                await Quietly(async () => await responseFeature!.Stream.WriteAsync("LEAK4"u8.ToArray()));
                await Quietly(async () => await requestBody!.ReadAtLeastAsync(new byte[64], 1, throwOnEndOfStream: false));
                await Quietly(async () => bodyReader!.AdvanceTo((await bodyReader.ReadAsync()).Buffer.End));

                using var reader = new StreamReader(context.Request.Body);
                await context.Response.WriteAsync("next:" + await reader.ReadToEndAsync());
                return;
            }

            await next(context);
        }));

        using var kept = await host.Client.PostAsync("/keep", new StringContent("first"));
        Assert.Equal("kept", await kept.Content.ReadAsStringAsync());

        using var other = new HttpClient { BaseAddress = host.Client.BaseAddress }; // another connection, the same worker
        using var next = await other.PostAsync("/next", new StringContent("second"));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("next:second", await next.Content.ReadAsStringAsync());

        static async Task Quietly(Func<Task> use)
        {
            try
            {
                await use();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or IOException)
            {
                // The server refuses a body whose request has ended.
            }
        }
    }

    [Fact]
    public async Task StuckWorker_EndingLate_LeavesItsReplacementsRequestAlone()
    {
        var time = new FakeTimeProvider();
        using var unblock = new ManualResetEventSlim();
        var stuckStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var nextStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var openNext = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ServingHost.StartAsync(Dedicated(workers: 1, """, "RequestTimeout": "00:00:01" """),
            services: s => s.AddSingleton<TimeProvider>(time),
            afterServing: web => web.Use(async (context, next) =>
            {
                if (context.Request.Path == "/stuck")
                {
                    stuckStarted.TrySetResult();
                    unblock.Wait(TestTimeouts.Wait); // blocks its worker and ignores RequestAborted, like stuck sync code
                    return;
                }

                if (context.Request.Path == "/next")
                {
                    var body = context.Features.Get<IHttpResponseBodyFeature>();
                    nextStarted.TrySetResult();
                    await openNext.Task;

                    // Still this request's own bodies, though the stuck request ended on the other worker meanwhile.
                    await context.Response.WriteAsync($"{ReferenceEquals(body, context.Features.Get<IHttpResponseBodyFeature>())}|{Thread.CurrentThread.Name}");
                    return;
                }

                await next(context);
            }));
        var pool = host.App.Services.GetRequiredService<PoolRegistry>().Pools.Single(p => p.Name == "slow");

        var stuck = host.Client.GetAsync("/stuck");
        await stuckStarted.Task.WaitAsync(TestTimeouts.Wait);
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(RequestDeadline.AbandonGrace);
        Assert.Equal(HttpStatusCode.GatewayTimeout, (await stuck).StatusCode);

        // The replacement runs the next request when the stuck code returns and its worker ends: the stuck
        // request's end (on its own worker, before that worker ends) must not end the next one's.
        using var other = new HttpClient { BaseAddress = host.Client.BaseAddress };
        var next = other.GetAsync("/next");
        await nextStarted.Task.WaitAsync(TestTimeouts.Wait);
        unblock.Set();
        await Poll.UntilAsync(() => host.Logs.GetSnapshot().Any(r => r.Id.Id == 4006), "the stuck worker has ended");
        Assert.False(next.IsCompleted);
        Assert.Equal(1, pool.Running);

        openNext.SetResult();
        using var response = await next;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("True|ProductionServing worker slow#2", await response.Content.ReadAsStringAsync());
        await Poll.UntilAsync(() => pool.IsIdle, "nothing runs or is stuck");
    }

    [Fact]
    public async Task StuckWorkerThatKeepsItsSlot_ServesTheNextRequestOnceItReturns()
    {
        var time = new FakeTimeProvider();
        await using var app = await PoolTestApp.StartAsync(
            PoolTestApp.Config(""" "p": { "DedicatedThreads": true, "Workers": 1, "QueueLimit": 0, "RequestTimeout": "00:00:01" } """),
            services: s => s.AddSingleton<TimeProvider>(time));
        var pool = app.Pool("p");

        // The first stuck request's worker is replaced; the second one's (the replacement) is not: at most
        // Limit stuck requests get their slot freed, so the replacement stays with it until it returns.
        foreach (var id in new[] { "0", "1" })
        {
            var stuck = app.Client.GetAsync($"/block/{id}");
            await app.Started(id);
            time.Advance(TimeSpan.FromSeconds(1));
            time.Advance(RequestDeadline.AbandonGrace);
            Assert.Equal(HttpStatusCode.GatewayTimeout, (await stuck).StatusCode);
        }

        Assert.Equal(1, pool.Replacements);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client.GetAsync("/work")).StatusCode);

        app.Unblock();
        await Poll.UntilAsync(() => pool.IsIdle, "both stuck requests have ended");
        Assert.Equal(
            "ProductionServing worker p#2|False\nProductionServing worker p#2|False\nProductionServing worker p#2|False",
            await app.GetStringAsync("/thread"));
        Assert.Equal("worked", await app.GetStringAsync("/work"));
    }

    [Fact]
    public async Task AsyncLocalsLeftOnTheWorkerThread_NeverReachTheNextRequest()
    {
        var leaked = new AsyncLocal<string?>();
        await using var host = await ServingHost.StartAsync(Dedicated(workers: 1),
            beforeServing: web => web.Use(async (context, next) =>
            {
                if (!context.Request.Query.ContainsKey("suppress"))
                {
                    await next(context);
                    return;
                }

                // A caller that suppresses the flow: the pool has no ExecutionContext to run the app in, so it
                // runs in the worker thread's own.
                Task app;
                using (ExecutionContext.SuppressFlow())
                {
                    app = next(context);
                }

                await app;
            }),
            afterServing: web => web.Run(context =>
            {
                var seen = leaked.Value ?? "-";

                // Set outside any async method: nothing of the app's own restores it.
                leaked.Value = context.Request.Path;
                if (context.Request.Query.ContainsKey("post"))
                {
                    // A callback the app posts to the worker itself runs in no request's context at all.
                    SynchronizationContext.Current!.Post(static s => ((AsyncLocal<string?>)s!).Value = "posted", leaked);
                }

                return context.Response.WriteAsync($"{seen}|{Thread.CurrentThread.Name}");
            }));

        const string Worker = "ProductionServing worker slow#1";
        Assert.Equal($"-|{Worker}", await host.Client.GetStringAsync("/set?suppress"));
        Assert.Equal($"-|{Worker}", await host.Client.GetStringAsync("/read?suppress"));
        Assert.Equal($"-|{Worker}", await host.Client.GetStringAsync("/flowing"));
        Assert.Equal($"-|{Worker}", await host.Client.GetStringAsync("/flowing?post"));
        Assert.Equal($"-|{Worker}", await host.Client.GetStringAsync("/read?suppress"));
        Assert.Equal($"-|{Worker}", await host.Client.GetStringAsync("/read?suppress&post"));
        Assert.Equal($"-|{Worker}", await host.Client.GetStringAsync("/read?suppress"));
    }

    [Fact]
    public async Task AWorker_RefusesARequestUntilTheLastOneIsRead_AndAReadTaskCannotBeReadAgain()
    {
        var worker = new WorkerThread("ProductionServing worker test#1", NullLogger.Instance);
        try
        {
            var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var first = worker.Start(new DefaultHttpContext(), _ => releaseFirst.Task);

            // Refused while the first request runs, and while it has ended but is not read; left as it was.
            var second = new DefaultHttpContext();
            var secondsBody = second.Features.Get<IHttpResponseBodyFeature>();
            await Assert.ThrowsAsync<InvalidOperationException>(() => worker.Start(second, _ => Task.CompletedTask).AsTask());
            Assert.Same(secondsBody, second.Features.Get<IHttpResponseBodyFeature>());
            releaseFirst.SetResult();
            await Poll.UntilAsync(() => first.IsCompleted, "the first request has ended");
            await Assert.ThrowsAsync<InvalidOperationException>(() => worker.Start(second, _ => Task.CompletedTask).AsTask());
            Assert.Same(secondsBody, second.Features.Get<IHttpResponseBodyFeature>());

            await first;
            Assert.Throws<InvalidOperationException>(() => first.GetAwaiter().GetResult());

            var releaseSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var running = worker.Start(second, _ => releaseSecond.Task);
            Assert.Throws<InvalidOperationException>(() => first.GetAwaiter().GetResult());
            Assert.False(running.IsCompleted);
            releaseSecond.SetException(new InvalidTimeZoneException("the second request's own failure"));
            await Poll.UntilAsync(() => running.IsCompleted, "the second request has ended");

            // A late read of the first request's task, once the second has ended and before its own read: never
            // the second's outcome, and the second's reader still gets it.
            Assert.Throws<InvalidOperationException>(() => first.GetAwaiter().GetResult());
            await Assert.ThrowsAsync<InvalidTimeZoneException>(async () => await running);
        }
        finally
        {
            worker.Stop();
            await worker.Exited.WaitAsync(TestTimeouts.Wait);
        }
    }
}
