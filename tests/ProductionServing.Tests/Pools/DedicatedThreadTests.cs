using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>DedicatedThreads (docs/pools.md, Dedicated threads): app code and its continuations run on the pool's own named threads, so blocking code starves no one else.</summary>
public sealed class DedicatedThreadTests
{
    private static string Dedicated(int workers, int queueLimit = 64) => PoolTestApp.Config(
        $$""" "slow": { "DedicatedThreads": true, "Workers": {{workers}}, "QueueLimit": {{queueLimit}} } """,
        locations: """{ "Match": "/", "App": { "Pool": "slow" } }, { "Match": "= /healthz", "App": { "Pool": null } }, { "Match": "^~ /files/", "Static": { "Root": "." } }""");

    [Fact]
    public async Task AppCode_RunsOnANamedWorker_BeforeAndAfterAwait()
    {
        await using var app = await PoolTestApp.StartAsync(Dedicated(workers: 1));

        var lines = (await app.GetStringAsync("/thread")).Split('\n');

        // One worker: the same thread throughout, never a thread-pool thread.
        Assert.Equal(["ProductionServing worker slow#1|False", "ProductionServing worker slow#1|False", "ProductionServing worker slow#1|False"], lines);
    }

    [Fact]
    public async Task RequestExecutionContext_FlowsToTheWorker()
    {
        var flowed = new AsyncLocal<string>();
        await using var host = await ServingHost.StartAsync(Dedicated(workers: 2),
            beforeServing: web => web.Use((context, next) =>
            {
                flowed.Value = "set before the pool";
                return next(context);
            }),
            afterServing: web => web.Run(context => context.Response.WriteAsync($"{flowed.Value}|{Thread.CurrentThread.Name}")));

        Assert.Matches("^set before the pool\\|ProductionServing worker slow#[12]$", await host.Client.GetStringAsync("/x"));
    }

    [Fact]
    public async Task AWorker_RunsOneRequestAtATime()
    {
        await using var app = await PoolTestApp.StartAsync(Dedicated(workers: 2));
        var requests = Enumerable.Range(0, 6).Select(i => app.Client.GetAsync($"/gate/{i}")).ToList();
        await Poll.UntilAsync(() => app.StartOrder.Count == 2 && app.Pool("slow").QueueLength == 4, "two run, four wait");

        for (var i = 0; i < 6; i++)
        {
            app.Open(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.All(await Task.WhenAll(requests), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(2, app.MaxRunning);
    }

    [Fact]
    public async Task AppException_LeavesTheWorkerAlive()
    {
        await using var app = await PoolTestApp.StartAsync(Dedicated(workers: 1), beforeServing: web => web.UseDeveloperExceptionPage());

        Assert.Equal(HttpStatusCode.InternalServerError, (await app.Client.GetAsync("/throw")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await app.Client.GetAsync("/throw")).StatusCode);

        Assert.StartsWith("ProductionServing worker slow#1|False", await app.GetStringAsync("/thread"), StringComparison.Ordinal);
        Assert.Equal(0, app.Pool("slow").Replacements);
    }

    [Fact]
    public async Task SaturatedBlockingPool_DoesNotDelayHealthChecksOrStaticFiles()
    {
        using var site = new StaticSite();
        site.Write("files/app.css", "body{}");
        await using var app = await PoolTestApp.StartAsync(Dedicated(workers: 4), contentRoot: site.Root);
        var pool = app.Pool("slow");

        // Four workers blocked in sync code (the thread-pool equivalent would be four starved threads on
        // this 2-core machine), and more requests queued behind them.
        var blocked = Enumerable.Range(0, 12).Select(i => app.Client.GetAsync($"/block/{i}")).ToList();
        await Poll.UntilAsync(() => pool.Running == 4 && pool.QueueLength == 8, "four block, eight wait");

        for (var i = 0; i < 20; i++)
        {
            var watch = Stopwatch.StartNew();
            Assert.Equal("1|= /healthz|App||/healthz", await app.GetStringAsync("/healthz"));
            Assert.Equal("body{}", await app.GetStringAsync("/files/app.css"));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed} while the pool was saturated");
        }

        Assert.Equal(4, pool.Running);

        // What kept them answering: the blocked code holds the pool's own four threads, none of the thread pool's.
        Assert.Equal(4, app.ThreadsSeen.Count);
        Assert.All(app.ThreadsSeen.Keys, thread => Assert.False(thread.IsThreadPoolThread, thread.Name));
        app.Unblock();
        Assert.All(await Task.WhenAll(blocked), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Fact]
    public async Task BlockingIo_OnAWorker_WaitsForTheBody_AndWritesPastTheServersBuffer()
    {
        await using var app = await PoolTestApp.StartAsync(Dedicated(workers: 1));
        var secondPart = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var content = new PiecewiseContent("first part|", secondPart.Task, "second part");
        var request = app.Client.PostAsync("/syncio/a", content);
        await app.Started("a");

        // The worker has read the first part and now blocks in Read for the rest (a sync wait on the
        // server's async read, whose continuation must not queue behind the blocked worker).
        var worker = app.ThreadsSeen.Keys.Single();
        await Poll.UntilAsync(() => (worker.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0, "the worker blocks in Read");
        secondPart.SetResult();

        using var response = await request;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("22", response.Headers.GetValues("X-Received").Single());
        Assert.Equal(4 * 1024 * 1024, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    /// <summary>A request body sent in two parts, the second when <paramref name="release"/> completes.</summary>
    private sealed class PiecewiseContent(string first, Task release, string second) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(first));
            await stream.FlushAsync();
            await release.WaitAsync(TestTimeouts.Wait);
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(second));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
