using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>
/// Edge cases found in review, each checked against the same request without a pool where that makes
/// sense: the framework's sync APIs on a worker, server code after a request, a give-up racing the app's
/// end, and body readers after <c>EnableBuffering</c>.
/// </summary>
public sealed class PoolEdgeCaseTests
{
    private static string Config(string pool = """ "slow": { "DedicatedThreads": true, "Workers": 1 } """) => PoolTestApp.Config(pool,
        locations: """{ "Match": "/", "App": { "Pool": "slow" } }, { "Match": "^~ /direct", "App": { "Pool": null } }""");

    private static string Describe() => $"{Thread.CurrentThread.Name}|{Thread.CurrentThread.IsThreadPoolThread}";

    // Request.Form (sync, the API blocking apps use) deadlocks on a dedicated worker when the body is not
    // yet all received: FormFeature.ReadForm blocks on ReadFormAsync, whose own awaits (above the wrapped
    // pipe) capture the worker's context and queue behind the blocked worker.
    [Theory]
    [InlineData("/direct/form")]
    [InlineData("/form")]
    public async Task SyncRequestForm_WithABodyThatArrivesLate(string path)
    {
        Thread? formReader = null;
        await using var host = await ServingHost.StartAsync(Config(), afterServing: web => web.Use(async (context, next) =>
        {
            if (!context.Request.Path.Value!.EndsWith("/form", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }

            formReader = Thread.CurrentThread;
            var form = context.Request.Form; // sync
            await context.Response.WriteAsync("a=" + form["a"]);
        }));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\n");
        // The body comes once the app blocks in Request.Form waiting for it.
        await Poll.UntilAsync(() => Volatile.Read(ref formReader) is { } t && (t.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0, "the app waits for the form");
        await client.SendAsync("a=hello");

        var received = await client.ReadUntilAsync("a=hello").WaitAsync(TestTimeouts.Wait);
        Assert.Contains("200 OK", received, StringComparison.Ordinal);
    }

    // the pool's continuation runs inline on the worker after Release() returned the worker to the idle
    // stack, so Kestrel goes on to the next pipelined request on that thread: another location's app (here
    // one without a pool) runs on the dedicated worker.
    [Fact]
    public async Task PipelinedRequestToAnotherLocation_DoesNotRunOnTheDedicatedWorker()
    {
        await using var host = await ServingHost.StartAsync(Config(), afterServing: web => web.Use(async (context, next) =>
        {
            if (context.Request.Path.Value!.EndsWith("/who", StringComparison.Ordinal))
            {
                await context.Response.WriteAsync("ON=" + Describe() + ";");
                return;
            }

            await next(context);
        }));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("GET /who HTTP/1.1\r\nHost: x\r\n\r\nGET /direct/who HTTP/1.1\r\nHost: x\r\n\r\n");
        var received = await client.ReadUntilAsync("|True;").WaitAsync(TestTimeouts.Wait).ContinueWith(t => client.Received);

        var threads = System.Text.RegularExpressions.Regex.Matches(received, "ON=([^;]*);").Select(m => m.Groups[1].Value).ToList();
        Assert.True(threads.Count == 2, received);
        Assert.StartsWith("ProductionServing worker slow#1|False", threads[0], StringComparison.Ordinal);
        Assert.EndsWith("|True", threads[1], StringComparison.Ordinal); // the direct app: a thread-pool thread
    }

    // while that inline continuation blocks (here a Response.OnCompleted callback), the pool counts the
    // worker as free: the next request is admitted (Running == 1) but does not start.
    [Fact]
    public async Task AdmittedRequest_StartsAtOnce_WhileThePreviousRequestsOnCompletedRuns()
    {
        using var release = new ManualResetEventSlim();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ServingHost.StartAsync(Config(), afterServing: web => web.Use(async (context, next) =>
        {
            if (context.Request.Path == "/first")
            {
                context.Response.OnCompleted(() =>
                {
                    release.Wait(TestTimeouts.Long); // e.g. sync audit logging after the response; longer than the wait for /second
                    return Task.CompletedTask;
                });
                await context.Response.WriteAsync("first");
                return;
            }

            if (context.Request.Path == "/second")
            {
                started.TrySetResult();
                await context.Response.WriteAsync("second");
                return;
            }

            await next(context);
        }));

        Assert.Equal("first", await host.Client.GetStringAsync("/first"));
        using var other = new HttpClient { BaseAddress = host.Client.BaseAddress }; // a new connection: Kestrel serves the first one's next request only after its OnCompleted
        var second = other.GetStringAsync("/second");
        try
        {
            await started.Task.WaitAsync(TestTimeouts.Wait);
        }
        finally
        {
            release.Set();
        }

        Assert.Equal("second", await second);
    }

    // Request.Body.BeginRead on a dedicated worker: Stream's default BeginRead (not overridden by
    // ContextFreeStream) runs the sync Read, which Kestrel refuses without AllowSynchronousIO; Kestrel's own
    // BeginRead is async. Without a pool the same code works.
    [Theory]
    [InlineData("/direct/apm")]
    [InlineData("/apm")]
    public async Task ApmRead_OfTheRequestBody(string path)
    {
        await using var host = await ServingHost.StartAsync(Config(), afterServing: web => web.Use(async (context, next) =>
        {
            if (!context.Request.Path.Value!.EndsWith("/apm", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }

            var buffer = new byte[64];
            var body = context.Request.Body;
            var read = await Task.Factory.FromAsync(body.BeginRead, body.EndRead, buffer, 0, buffer.Length, null);
            await context.Response.WriteAsync("read " + read);
        }));

        using var response = await host.Client.PostAsync(path, new StringContent("hello"));
        Assert.Equal("read 5", await response.Content.ReadAsStringAsync());
    }

    // the give-up (timer thread) and the app's end race: Fire moves the stage to Abandoned, then the app
    // ends before RequestDeadline.GiveUp has set SlotFreed; RunWithDeadlineAsync reads SlotFreed == false and
    // Releases the slot, then WorkerPool.GiveUp frees it again (and counts a stuck request that never ends).
    // The hook in an outer response-body feature (where compression or buffering middleware sits) only makes
    // the interleaving deterministic; the app's OnCompleted keeps the HttpContext alive meanwhile.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GiveUpRacingTheAppsEnd_FreesTheSlotOnce(bool dedicated)
    {
        using var hold = new ManualResetEventSlim();
        using var completing = new ManualResetEventSlim();
        var race = await RaceAsync(dedicated, holdOnCompleted: () => { completing.Set(); hold.Wait(TestTimeouts.Wait); },
            inHook: () => completing.Wait(TestTimeouts.Wait));
        int runningAtOnce, runningLater;
        bool idleLater;
        try
        {
            runningAtOnce = race.Pool.Running;
        }
        finally
        {
            hold.Set();
        }

        await Poll.UntilAsync(() => race.Pool.IsIdle || race.Pool.Running < 0, "the pool settles");
        runningLater = race.Pool.Running;
        idleLater = race.Pool.IsIdle;
        var drained = race.Pool.WhenDrained();
        _ = race.Host.DisposeAsync().AsTask(); // would wait out the shutdown timeout when the count is off

        Assert.Null(race.Thrown);
        Assert.Equal((0, 0, true), (runningAtOnce, runningLater, idleLater));
        Assert.True(drained.IsCompleted, "a pool with nothing running is drained");
    }

    // the same race when the request has ended by then: GiveUp works on a recycled HttpContext, and
    // ObjectDisposedException (or InvalidOperationException from the read-only headers) escapes Fire, i.e. a
    // timer callback: with TimeProvider.System that is an unhandled exception on a thread-pool thread.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GiveUpRacingTheAppsEnd_NeverThrowsFromTheTimer(bool dedicated)
    {
        using var returned = new ManualResetEventSlim();
        var race = await RaceAsync(dedicated, holdOnCompleted: null, inHook: () => returned.Wait(TestTimeouts.Wait), appReturned: returned);
        await using var host = race.Host;
        Assert.Null(race.Thrown);
    }

    private sealed record Race(ServingHost Host, ProductionServing.Pools.WorkerPool Pool, Exception? Thrown);

    private static async Task<Race> RaceAsync(bool dedicated, Action? holdOnCompleted, Action inHook, ManualResetEventSlim? appReturned = null)
    {
        var time = new FakeTimeProvider();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var armed = 0;
        var pool = dedicated
            ? """ "slow": { "DedicatedThreads": true, "Workers": 1, "QueueLimit": 0, "RequestTimeout": "00:00:01" } """
            : """ "slow": { "MaxConcurrency": 1, "QueueLimit": 0, "RequestTimeout": "00:00:01" } """;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = await ServingHost.StartAsync(Config(pool),
            services: s => s.AddSingleton<TimeProvider>(time),
            beforeServing: web => web.Use((context, next) =>
            {
                var inner = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
                context.Features.Set<IHttpResponseBodyFeature>(new HookedBody(inner, () =>
                {
                    if (Interlocked.Exchange(ref armed, 0) == 1)
                    {
                        gate.TrySetResult(); // the stuck app wakes up just now, and ends before GiveUp reaches the pool
                        inHook();
                    }
                }));
                return next(context);
            }),
            afterServing: web => web.Use(async (context, next) =>
            {
                if (context.Request.Path == "/stuck")
                {
                    if (holdOnCompleted is not null)
                    {
                        context.Response.OnCompleted(() =>
                        {
                            holdOnCompleted();
                            return Task.CompletedTask;
                        });
                    }

                    started.TrySetResult();
                    await gate.Task; // ignores RequestAborted
                    appReturned?.Set();
                    return;
                }

                await next(context);
            }));
        var workerPool = host.App.Services.GetRequiredService<ProductionServing.Pools.PoolRegistry>().Pools.Single(p => p.Name == "slow");

        _ = host.Client.GetAsync("/stuck");
        await started.Task.WaitAsync(TestTimeouts.Wait);
        time.Advance(TimeSpan.FromSeconds(1)); // canceled; the app does not look
        Volatile.Write(ref armed, 1);
        Exception? thrown = null;
        try
        {
            time.Advance(ProductionServing.Pools.RequestDeadline.AbandonGrace); // given up on, on this thread
        }
        catch (Exception ex)
        {
            thrown = ex;
        }

        return new Race(host, workerPool, thrown);
    }

    // ContextFreeBody.Reader caches the first reader; Kestrel's own IRequestBodyPipeFeature hands out a
    // new reader once Request.Body was replaced (EnableBuffering). Reads through BodyReader then bypass the
    // buffering stream on a dedicated worker, and rewinding finds nothing.
    [Theory]
    [InlineData("/direct/rewind")]
    [InlineData("/rewind")]
    public async Task BodyReaderAfterEnableBuffering_CanBeRewound(string path)
    {
        await using var host = await ServingHost.StartAsync(Config(), afterServing: web => web.Use(async (context, next) =>
        {
            if (!context.Request.Path.Value!.EndsWith("/rewind", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }

            _ = context.Request.BodyReader; // e.g. an earlier middleware looked at it
            context.Request.EnableBuffering();
            while (true)
            {
                var result = await context.Request.BodyReader.ReadAsync();
                context.Request.BodyReader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            context.Request.Body.Position = 0;
            using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
            await context.Response.WriteAsync("again=" + await reader.ReadToEndAsync());
        }));

        using var response = await host.Client.PostAsync(path, new StringContent("hello"));
        Assert.Equal("again=hello", await response.Content.ReadAsStringAsync());
    }

    private sealed class HookedBody(IHttpResponseBodyFeature inner, Action hook) : IHttpResponseBodyFeature
    {
        private readonly HookedWriter _writer = new(inner.Writer, hook);

        public Stream Stream => inner.Stream;

        public PipeWriter Writer => _writer;

        public void DisableBuffering() => inner.DisableBuffering();

        public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            inner.SendFileAsync(path, offset, count, cancellationToken);

        public Task CompleteAsync() => inner.CompleteAsync();
    }

    private sealed class HookedWriter(PipeWriter inner, Action hook) : PipeWriter
    {
        public override void Advance(int bytes)
        {
            hook();
            inner.Advance(bytes);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
    }
}
