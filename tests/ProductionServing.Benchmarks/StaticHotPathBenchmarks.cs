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
    /// The location directive on the file's location, if any: three constant <c>Headers</c> (set from the
    /// response's <c>OnStarting</c>, which this context runs as Kestrel does), an <c>Allow</c> list of 20
    /// networks with the client's last (every entry tried), or a <c>RateLimit</c> that is never hit (the default
    /// key, the client's address; the bucket lookup and its refill per request, the rate far above what one
    /// thread sends).
    /// </summary>
    [Params(Directive.None, Directive.Headers, Directive.Allow, Directive.RateLimit)]
    public Directive Directives { get; set; }

    /// <summary>A location directive <see cref="StaticHotPathBenchmarks"/> can measure.</summary>
    public enum Directive
    {
        None,
        Headers,
        Allow,
        RateLimit,
    }

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
                o.Locations.Add(WithDirective(new LocationOptions { Match = "/", Static = new StaticOptions { Root = _folder } }));
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

        if (Directives == Directive.Headers && _context.Response.Headers["X-Frame-Options"] != "DENY")
        {
            throw new InvalidOperationException("GET /1k.bin was answered without the location's Headers.");
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

    private LocationOptions WithDirective(LocationOptions location)
    {
        switch (Directives)
        {
            case Directive.Headers:
                location.Headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains";
                location.Headers["X-Content-Type-Options"] = "nosniff";
                location.Headers["X-Frame-Options"] = "DENY";
                break;
            case Directive.Allow:
                // The LoadServer's --allow 20: networks the client is in none of, then its own last.
                var allow = new List<string>();
                for (var i = 1; i < 20; i++)
                {
                    allow.Add(i % 2 == 0 ? $"10.{i}.0.0/16" : $"fd00:{i:x}::/32");
                }

                allow.Add("127.0.0.0/8");
                location.Allow = allow;
                break;
            case Directive.RateLimit:
                location.RateLimit = new RateLimitOptions { Rate = "10000000r/s" };
                break;
        }

        return location;
    }

    /// <summary>
    /// A request as Kestrel's look to the middleware: HTTP/1.1 from 127.0.0.1, on a connection with its items, with
    /// a response that runs its <c>OnStarting</c> callbacks when its body is first written, as Kestrel's does.
    /// </summary>
    internal static DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext();
        var response = new StartingResponse();
        context.Features.Set<IHttpResponseFeature>(response);
        context.Features.Set<IHttpResponseBodyFeature>(response);
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
        return Run(_context);
    }

    [Benchmark(Description = "GET / (1 KiB index.html)")]
    public Task GetIndex()
    {
        return Run(_indexContext);
    }

    [Benchmark(Description = "GET 1 KiB → 304")]
    public Task NotModified()
    {
        _context.Request.Headers.IfNoneMatch = _etag;
        return Run(_context);
    }

    private Task Run(DefaultHttpContext context) => Run(_middleware, context);

    /// <summary>One request on <paramref name="context"/>'s connection: a fresh response, the middleware, the response's end.</summary>
    internal static Task Run(ProductionServingMiddleware middleware, DefaultHttpContext context)
    {
        var response = (StartingResponse)context.Features.Get<IHttpResponseFeature>()!;
        response.Reset();
        response.Headers.Clear();
        response.StatusCode = 200;
        var request = middleware.Invoke(context);
        return request.IsCompletedSuccessfully ? response.CompleteAsync() : Complete(request, response);

        static async Task Complete(Task request, StartingResponse response)
        {
            await request;
            await response.CompleteAsync();
        }
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

    /// <summary>
    /// The response of <see cref="NewContext"/>: its body goes nowhere, and its <c>OnStarting</c> callbacks run,
    /// newest first, at the first write or flush of the body or when the request ends, as Kestrel's do. Kestrel
    /// keeps the callbacks' list on the connection between requests; so does this, on the context.
    /// </summary>
    internal sealed class StartingResponse : HttpResponseFeature, IHttpResponseBodyFeature
    {
        private readonly Stack<(Func<object, Task> Callback, object State)> _starting = new();
        private readonly NullWriter _writer;
        private bool _started;

        public StartingResponse()
        {
            _writer = new NullWriter(this);
            Body = Stream.Null;
        }

        public override bool HasStarted => _started;

        public Stream Stream => Stream.Null;

        public System.IO.Pipelines.PipeWriter Writer => _writer;

        public override void OnStarting(Func<object, Task> callback, object state) => _starting.Push((callback, state));

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default)
        {
            if (!_started)
            {
                _started = true;
                while (_starting.TryPop(out var entry))
                {
                    entry.Callback(entry.State).GetAwaiter().GetResult();
                }
            }

            return Task.CompletedTask;
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            StartAsync(cancellationToken);

        public Task CompleteAsync() => StartAsync();

        /// <summary>Makes the response new again for the next request on the same context.</summary>
        public void Reset()
        {
            _started = false;
            _starting.Clear();
        }

        private sealed class NullWriter(StartingResponse response) : System.IO.Pipelines.PipeWriter
        {
            private readonly byte[] _buffer = new byte[4096];

            public override void Advance(int bytes)
            {
            }

            public override Memory<byte> GetMemory(int sizeHint = 0) => sizeHint <= _buffer.Length ? _buffer : new byte[sizeHint];

            public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

            public override void CancelPendingFlush()
            {
            }

            public override void Complete(Exception? exception = null)
            {
            }

            public override ValueTask<System.IO.Pipelines.FlushResult> FlushAsync(CancellationToken cancellationToken = default)
            {
                response.StartAsync(cancellationToken);
                return default;
            }

            public override ValueTask<System.IO.Pipelines.FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
                FlushAsync(cancellationToken);
        }
    }

    private sealed class ConnectionItems : Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature
    {
        public IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    }
}
