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
/// What the status page costs a request it does not answer: a cached 1 KiB file with <c>Status</c> off and
/// on. With it on, its meter listener records the request duration and cache instruments, every request
/// keeps a record, and its end is offered to the location's recent requests (a request neither failed nor
/// among the slowest reads two fields there).
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet ends the run with [GlobalCleanup], which disposes it.")]
public class StatusHotPathBenchmarks
{
    private string _folder = null!;
    private ServiceProvider _services = null!;
    private ProductionServingMiddleware _middleware = null!;
    private DefaultHttpContext _context = null!;

    [Params(false, true)]
    public bool Status { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ps-bench-status-").FullName;
        File.WriteAllBytes(Path.Combine(_folder, "1k.bin"), new byte[1024]);
        _services = new ServiceCollection()
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddProductionServing(o =>
            {
                o.Locations.Add(new LocationOptions { Match = "/", Static = new StaticOptions { Root = _folder } });
                o.Status = Status ? new StatusOptions { Path = "/_serving" } : null;
            })
            .BuildServiceProvider();
        _middleware = new ProductionServingMiddleware(_ => Task.CompletedTask, _services.GetRequiredService<ServingConfigHolder>(),
            _services.GetRequiredService<RequestObserver>(), NullLogger<ProductionServingMiddleware>.Instance);
        _context = new DefaultHttpContext();
        _context.Response.Body = Stream.Null;
        var request = _context.Features.Get<IHttpRequestFeature>()!;
        request.Method = HttpMethods.Get;
        request.Path = "/1k.bin";
        request.RawTarget = "/1k.bin";
        Get();
        if (_context.Response.StatusCode != StatusCodes.Status200OK)
        {
            throw new InvalidOperationException($"GET /1k.bin answered {_context.Response.StatusCode}.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Description = "GET 1 KiB (cached)")]
    public Task Get()
    {
        _context.Response.Headers.Clear();
        _context.Response.StatusCode = 200;
        return _middleware.Invoke(_context);
    }
}
