using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ProductionServing.Diagnostics;
using ProductionServing.Pools;

namespace ProductionServing.Benchmarks;

/// <summary>
/// What a worker pool adds to a request, without Kestrel or sockets: admission, the hand-off to a
/// dedicated worker and back, and the context-free bodies. Each case runs the same app on the shared
/// pool (the thread pool) and on a dedicated one, so the difference is the hand-off alone. The context
/// is reused across requests, as Kestrel reuses it on a connection: what the server allocates once per
/// connection is not counted.
/// </summary>
[MemoryDiagnoser]
public class WorkerPoolBenchmarks
{
    private static readonly byte[] Hello = "hello"u8.ToArray();
    private static readonly byte[] Body = new byte[64];

    private static readonly RequestDelegate Sync = static _ => Task.CompletedTask;

    private static readonly RequestDelegate Async = static async _ => await Task.Yield();

    // The load suite's /hello: headers and a prebuilt body through Response.BodyWriter.
    private static readonly RequestDelegate Write = static context =>
    {
        context.Response.ContentLength = Hello.Length;
        var write = context.Response.BodyWriter.WriteAsync(Hello);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    };

    // Blocking I/O, the code a dedicated pool is for: read the body with Read, answer with Write.
    private static readonly RequestDelegate SyncIo = static context =>
    {
        Span<byte> buffer = stackalloc byte[64];
        while (context.Request.Body.Read(buffer) > 0)
        {
        }

        context.Response.Body.Write(Hello);
        return Task.CompletedTask;
    };

    private WorkerPool _shared = null!;
    private WorkerPool _dedicated = null!;
    private DefaultHttpContext _get = null!;
    private DefaultHttpContext _second = null!;
    private DefaultHttpContext _post = null!;
    private RequestDelegate _held = null!;
    private TaskCompletionSource _release = null!;

    [GlobalSetup]
    public void Setup()
    {
        var metrics = UnreadMetrics();
        _shared = new WorkerPool("shared", new PoolOptions(), TimeProvider.System, NullLogger.Instance, metrics);
        _dedicated = new WorkerPool("dedicated", new PoolOptions { DedicatedThreads = true, Workers = 1 }, TimeProvider.System, NullLogger.Instance, metrics);

        _get = new DefaultHttpContext();
        _get.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(canHaveBody: false));
        _get.Response.Body = Stream.Null;

        _second = new DefaultHttpContext();
        _second.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(canHaveBody: false));
        _second.Response.Body = Stream.Null;
        _held = _ => _release.Task;

        _post = new DefaultHttpContext();
        _post.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(canHaveBody: true));
        _post.Request.Method = HttpMethods.Post;
        _post.Request.Body = new MemoryStream(Body, writable: false);
        _post.Response.Body = Stream.Null;
    }

    [GlobalCleanup]
    public Task Cleanup() => _dedicated.StopWorkers();

    [Benchmark(Baseline = true, Description = "shared pool, sync app")]
    public Task SharedSync() => _shared.InvokeAsync(_get, Sync);

    [Benchmark(Description = "dedicated pool, sync app")]
    public Task DedicatedSync() => _dedicated.InvokeAsync(_get, Sync);

    [Benchmark(Description = "shared pool, async app")]
    public Task SharedAsync() => _shared.InvokeAsync(_get, Async);

    [Benchmark(Description = "dedicated pool, async app")]
    public Task DedicatedAsync() => _dedicated.InvokeAsync(_get, Async);

    [Benchmark(Description = "shared pool, BodyWriter (/hello)")]
    public Task SharedWrite() => _shared.InvokeAsync(_get, Write);

    [Benchmark(Description = "dedicated pool, BodyWriter (/hello)")]
    public Task DedicatedWrite() => _dedicated.InvokeAsync(_get, Write);

    [Benchmark(Description = "shared pool, sync Read and Write")]
    public Task SharedSyncIo()
    {
        _post.Request.Body.Position = 0;
        return _shared.InvokeAsync(_post, SyncIo);
    }

    [Benchmark(Description = "dedicated pool, sync Read and Write")]
    public Task DedicatedSyncIo()
    {
        _post.Request.Body.Position = 0;
        return _dedicated.InvokeAsync(_post, SyncIo);
    }

    // The pool's one worker is busy, so the second request waits in the queue: what a queued request
    // adds (its place in the queue, its QueueTimeout timer) on top of two requests' cost.
    [Benchmark(Description = "dedicated pool, 2 requests, 1 queued")]
    public async Task DedicatedQueued()
    {
        _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = _dedicated.InvokeAsync(_get, _held);
        var second = _dedicated.InvokeAsync(_second, Sync);
        _release.SetResult();
        await first;
        await second;
    }

    /// <summary>The instruments, with no listener.</summary>
    internal static ServingMetrics UnreadMetrics() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(), new ProductionServing.Static.FileCacheBudget());

    /// <summary>What Kestrel says of a GET without a body (no Content-Length, no Transfer-Encoding) and of a POST with one.</summary>
    private sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody { get; } = canHaveBody;
    }
}
