using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Pools;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>
/// A ServingHost whose app has controllable endpoints: <c>/gate/{id}</c> waits (asynchronously, honouring
/// <c>RequestAborted</c>) until the test opens the gate, <c>/block/{id}</c> blocks its thread until
/// <see cref="Unblock"/>, <c>/thread</c> reports the thread it runs on before and after awaits, and
/// <c>/throw</c> throws, <c>/partial/{id}</c> sends part of its response then waits at its gate (with
/// <c>?accel=/path</c> it sets <c>X-Accel-Redirect</c> first, so what it sends is discarded), and
/// <c>/work</c> does a moment of async work, and <c>/syncio/{id}</c> reads the request body and writes
/// a 4 MiB answer with blocking calls. It counts what started and how many ran at once.
/// </summary>
internal sealed class PoolTestApp : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _finished = new();
    private readonly ManualResetEventSlim _blocker = new();
    private int _running;
    private int _maxRunning;
    private int _workStarted;

    private PoolTestApp()
    {
    }

    public ServingHost Host { get; private set; } = null!;

    public HttpClient Client => Host.Client;

    /// <summary>The ids of the gate and block requests, in the order the app started them.</summary>
    public ConcurrentQueue<string> StartOrder { get; } = new();

    /// <summary>The threads the app's requests ran on.</summary>
    public ConcurrentDictionary<Thread, bool> ThreadsSeen { get; } = new();

    /// <summary>How many <c>/work</c> requests the app started.</summary>
    public int WorkStarted => Volatile.Read(ref _workStarted);

    /// <summary>The most app requests that were running at once.</summary>
    public int MaxRunning => Volatile.Read(ref _maxRunning);

    /// <summary>The configuration: the given locations and pools (JSON members of <c>Locations</c> and <c>Pools</c>).</summary>
    public static string Config(string pools, string locations = """{ "Match": "/", "App": { "Pool": "p" } }, { "Match": "= /healthz", "App": { "Pool": null } }""") =>
        ServingJson.Config(locations, pools: pools);

    public static async Task<PoolTestApp> StartAsync(string json, Action<IServiceCollection>? services = null,
        Action<WebApplication>? beforeServing = null, string? contentRoot = null,
        Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2)
    {
        var app = new PoolTestApp();
        app.Host = await ServingHost.StartAsync(json, beforeServing, afterServing: web => web.Use(app.HandleAsync),
            contentRoot: contentRoot, services: services, protocols: protocols);
        return app;
    }

    public WorkerPool Pool(string name) =>
        Host.App.Services.GetRequiredService<PoolRegistry>().Pools.Single(p => p.Name == name);

    /// <summary>Completes when the app has started the gate or block request <paramref name="id"/>.</summary>
    public Task Started(string id) => Signal(_started, id).Task.WaitAsync(TestTimeouts.Wait);

    /// <summary>Completes when the block request <paramref name="id"/> has returned from its block and tried to answer.</summary>
    public Task Finished(string id) => Signal(_finished, id).Task.WaitAsync(TestTimeouts.Wait);

    public void Open(string id) => Signal(_gates, id).TrySetResult();

    public void Unblock() => _blocker.Set();

    public async Task<string> GetStringAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gate in _gates.Values)
        {
            gate.TrySetResult();
        }

        Unblock();
        await Host.DisposeAsync();
        _blocker.Dispose();
    }

    private static TaskCompletionSource Signal(ConcurrentDictionary<string, TaskCompletionSource> signals, string id) =>
        signals.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private async Task HandleAsync(HttpContext context, RequestDelegate next)
    {
        var segments = context.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var kind = segments.Length > 0 ? segments[0] : "";
        if (kind is not ("gate" or "block" or "thread" or "throw" or "partial" or "work" or "syncio"))
        {
            await next(context);
            return;
        }

        var running = Interlocked.Increment(ref _running);
        for (var max = Volatile.Read(ref _maxRunning); running > max; max = Volatile.Read(ref _maxRunning))
        {
            Interlocked.CompareExchange(ref _maxRunning, running, max);
        }

        ThreadsSeen.TryAdd(Thread.CurrentThread, true);
        try
        {
            var id = segments.Length > 1 ? segments[1] : "";
            switch (kind)
            {
                case "gate":
                    StartOrder.Enqueue(id);
                    Signal(_started, id).TrySetResult();
                    await Signal(_gates, id).Task.WaitAsync(context.RequestAborted);
                    await context.Response.WriteAsync("done " + id);
                    break;
                case "block":
                    StartOrder.Enqueue(id);
                    Signal(_started, id).TrySetResult();
                    _blocker.Wait(); // blocks its thread and ignores RequestAborted, like stuck sync code
                    try
                    {
                        await context.Response.WriteAsync("done " + id, CancellationToken.None);
                    }
                    finally
                    {
                        Signal(_finished, id).TrySetResult();
                    }

                    break;
                case "syncio":
                    SyncIo(context, id);
                    break;
                case "thread":
                    var before = Describe();
                    await Task.Yield();
                    var afterYield = Describe();
                    await Task.Delay(1);
                    var afterDelay = Describe();
                    await context.Response.WriteAsync($"{before}\n{afterYield}\n{afterDelay}");
                    break;
                case "partial":
                    if (context.Request.Query["accel"] is { Count: > 0 } accel)
                    {
                        context.Response.Headers["X-Accel-Redirect"] = accel.ToString();
                    }

                    await context.Response.WriteAsync("partial ");
                    await context.Response.Body.FlushAsync();
                    Signal(_started, id).TrySetResult();
                    await Signal(_gates, id).Task.WaitAsync(context.RequestAborted);
                    break;
                case "work":
                    Interlocked.Increment(ref _workStarted);
                    await Task.Yield();
                    await context.Response.WriteAsync("worked");
                    break;
                default:
                    throw new InvalidOperationException("the app failed");
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    /// <summary>Blocking I/O, as sync code does: reads the whole body with Read, then writes 4 MiB with Write.</summary>
    private void SyncIo(HttpContext context, string id)
    {
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
        var buffer = new byte[1024];
        var received = 0;
        Signal(_started, id).TrySetResult();
        for (int read; (read = context.Request.Body.Read(buffer)) > 0;)
        {
            received += read;
        }

        // .Result on the async read too, as code that blocks on library calls does.
        received += context.Request.Body.ReadAsync(buffer.AsMemory()).AsTask().Result;
        var block = new byte[64 * 1024];
        Array.Fill(block, (byte)'x');
        context.Response.ContentLength = 4 * 1024 * 1024;
        context.Response.Headers["X-Received"] = received.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < 64; i++)
        {
            context.Response.Body.Write(block);
        }
    }

    private static string Describe() => $"{Thread.CurrentThread.Name}|{Thread.CurrentThread.IsThreadPoolThread}";
}
