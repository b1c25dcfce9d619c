using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProductionServing.Configuration;
using ProductionServing.Diagnostics;

namespace ProductionServing.Benchmarks;

/// <summary>
/// The per-request cost of the middleware for a cached 1 KiB file, without Kestrel or sockets: what
/// ProductionServing itself adds to a request. The folder is watched (on Linux), so a hit makes no
/// system call; the last two cases show what one <c>stat</c> costs, for comparison. <c>GET /</c> is
/// the folder's <c>index.html</c> (1 KiB too): the folder's decision (a folder inside the root, and
/// which index file it has) on top of the file's.
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet ends the run with [GlobalCleanup], which disposes it.")]
public class StaticHotPathBenchmarks
{
    private string _folder = null!;
    private string _file = null!;
    private ServiceProvider _services = null!;
    private ProductionServingMiddleware _middleware = null!;
    private DefaultHttpContext _context = null!;
    private IHttpRequestFeature _request = null!;
    private DefaultHttpContext _indexContext = null!;
    private string _etag = null!;
    private MeterListener? _listener;

    /// <summary>Whether a listener observes every ProductionServing instrument (an unobserved one costs a field read).</summary>
    [Params(false, true)]
    public bool Metrics { get; set; }

    /// <summary>
    /// Whether the access log is on, written by its file writer to <c>/dev/null</c>: all of its work (counting
    /// the body, formatting the line, queueing it, the background writes) but the disk's. The buffer holds
    /// what one thread sends in the writer's pause between batches, so no line is dropped.
    /// </summary>
    [Params(false, true)]
    public bool AccessLog { get; set; }

    /// <summary>
    /// Whether the location has a <c>RateLimit</c> that is never hit (the default key, the client's address): the
    /// bucket lookup and its refill per request. The rate is far above what one thread sends.
    /// </summary>
    [Params(false, true)]
    public bool RateLimit { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ps-bench-").FullName;
        _file = Path.Combine(_folder, "1k.bin");
        File.WriteAllBytes(_file, new byte[1024]);
        File.WriteAllBytes(Path.Combine(_folder, "index.html"), new byte[1024]);
        _services = new ServiceCollection()
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddProductionServing(o =>
            {
                o.Locations.Add(new LocationOptions
                {
                    Match = "/",
                    Static = new StaticOptions { Root = _folder },
                    RateLimit = RateLimit ? new RateLimitOptions { Rate = "10000000r/s" } : null,
                });
                o.AccessLog = AccessLog ? new AccessLogOptions { Path = "/dev/null", BufferSize = 1 << 20 } : null;
            })
            .BuildServiceProvider();
        if (Metrics)
        {
            _listener = new MeterListener();
            _listener.InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == ServingMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
            _listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
            _listener.Start();
        }

        _middleware = new ProductionServingMiddleware(_ => Task.CompletedTask, _services.GetRequiredService<ServingConfigHolder>(),
            _services.GetRequiredService<RequestObserver>(), NullLogger<ProductionServingMiddleware>.Instance);
        _context = NewContext();
        _request = _context.Features.Get<IHttpRequestFeature>()!;
        _request.Method = HttpMethods.Get;
        _request.Path = "/1k.bin";
        _request.RawTarget = "/1k.bin";
        Get();
        if (_context.Response.StatusCode != StatusCodes.Status200OK)
        {
            throw new InvalidOperationException($"GET /1k.bin answered {_context.Response.StatusCode}.");
        }

        _etag = _context.Response.Headers.ETag.ToString();
        _indexContext = NewContext();
        var index = _indexContext.Features.Get<IHttpRequestFeature>()!;
        index.Method = HttpMethods.Get;
        index.Path = "/";
        index.RawTarget = "/";
        GetIndex();
        if (_indexContext.Response.StatusCode != StatusCodes.Status200OK || _indexContext.Response.ContentLength != 1024)
        {
            throw new InvalidOperationException($"GET / answered {_indexContext.Response.StatusCode}, not the index file.");
        }
    }

    /// <summary>A request as Kestrel's look to the middleware: HTTP/1.1 from 127.0.0.1, on a connection with its items.</summary>
    internal static DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = Stream.Null;
        context.Request.Protocol = HttpProtocol.Http11;
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        context.Features.Set<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>(new ConnectionItems());
        return context;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _services.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Description = "GET 1 KiB (cached)")]
    public Task Get()
    {
        _context.Request.Headers.IfNoneMatch = default;
        _context.Response.Headers.Clear();
        _context.Response.StatusCode = 200;
        return _middleware.Invoke(_context);
    }

    [Benchmark(Description = "GET / (1 KiB index.html)")]
    public Task GetIndex()
    {
        _indexContext.Response.Headers.Clear();
        _indexContext.Response.StatusCode = 200;
        return _middleware.Invoke(_indexContext);
    }

    [Benchmark(Description = "GET 1 KiB → 304")]
    public Task NotModified()
    {
        _context.Request.Headers.IfNoneMatch = _etag;
        _context.Response.Headers.Clear();
        _context.Response.StatusCode = 200;
        return _middleware.Invoke(_context);
    }

    [Benchmark(Description = "step: normalize the path")]
    public string StepPath()
    {
        ProductionServing.Routing.RequestPath.TryGetMatchPath(_context, out var path);
        return path;
    }

    [Benchmark(Description = "step: select the location")]
    public object? StepSelect() => _services.GetRequiredService<ServingConfigHolder>().Current.Matcher.Select("/1k.bin");

    [Benchmark(Description = "step: find the cached file")]
    public object StepFind()
    {
        var location = _services.GetRequiredService<ServingConfigHolder>().Current.Matcher.Select("/1k.bin")!;
        ((ProductionServing.Static.StaticHandler)location.Handler).Files.Find("/1k.bin", out var entry);
        return entry!;
    }

    [Benchmark(Description = "File.GetLastWriteTimeUtc (one stat)")]
    public DateTime Stat() => File.GetLastWriteTimeUtc(_file);

    [Benchmark(Description = "FileInfo.Refresh + Length + time")]
    public long Probe()
    {
        var info = new FileInfo(_file);
        info.Refresh();
        return info.Length + info.LastWriteTimeUtc.Ticks;
    }

    private sealed class ConnectionItems : Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature
    {
        public IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    }
}
