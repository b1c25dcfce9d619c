using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace ProductionServing.LoadServer;

/// <summary>
/// The app of the pool benchmark (<c>tests/load/run SUITE=pools</c>), the same in every mode, so the
/// rows differ only in what stands in front of it: nothing, ASP.NET Core's concurrency limiter, or
/// the library's worker pools. Bodies are built once; the request path captures nothing new.
/// </summary>
internal static class PoolEndpoints
{
    /// <summary>How long <c>GET /block</c> blocks its thread, in milliseconds: blocking app code for the isolation benchmark (tests/load/README.md).</summary>
    public const int BlockMilliseconds = 50;

    /// <summary>How long <c>GET /work</c> takes, in milliseconds, without holding a thread.</summary>
    public const int WorkMilliseconds = 20;

    /// <summary>The rate-limiting policy that <c>--mode limiter</c> puts on <c>GET /block</c>.</summary>
    public const string BlockPolicy = "block";

    private static readonly StringValues TextType = "text/plain";
    private static readonly byte[] Hello = "hello"u8.ToArray();
    private static readonly byte[] Healthy = "healthy"u8.ToArray();
    private static readonly byte[] Blocked = "blocked"u8.ToArray();
    private static readonly byte[] Worked = "worked"u8.ToArray();

    /// <summary>Maps the app's endpoints; with <paramref name="limitBlock"/>, <c>/block</c> requires <see cref="BlockPolicy"/>.</summary>
    public static void Map(WebApplication app, bool limitBlock)
    {
        // The overhead benchmark's trivial endpoint: a prebuilt body, so the pool's cost is not
        // hidden behind the endpoint's own.
        app.MapGet("/hello", static context => Write(context, Hello));
        app.MapGet("/healthz", static context => Write(context, Healthy));
        var block = app.MapGet("/block", static context =>
        {
            // Blocking on purpose: sync I/O, .Result or a lock held across a slow call look the
            // same to the thread pool.
            Thread.Sleep(BlockMilliseconds);
            return Write(context, Blocked);
        });
        if (limitBlock)
        {
            block.RequireRateLimiting(BlockPolicy);
        }

        app.MapGet("/work", static context => WorkAsync(context));

        // Not counted in runs: the harness reads it after the isolation benchmark's flood, to show how
        // far the thread pool grew (from one thread per core) to keep up with blocked requests.
        app.MapGet("/__threads", static () => ThreadPool.ThreadCount.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The overload benchmark's request: 20 ms of waiting that holds a pool slot but no thread (an
    /// awaited database call), so the pool's capacity is its concurrency limit and nothing else.
    /// </summary>
    private static async Task WorkAsync(HttpContext context)
    {
        await Task.Delay(WorkMilliseconds, context.RequestAborted);
        await Write(context, Worked);
    }

    private static Task Write(HttpContext context, byte[] body)
    {
        var response = context.Response;
        response.Headers.ContentType = TextType;
        response.ContentLength = body.Length;
        var write = response.BodyWriter.WriteAsync(body, context.RequestAborted);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }
}
