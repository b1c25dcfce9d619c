using System.Text;
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
/// A cached 32 KiB JavaScript file through a location without <c>Compress</c> and through one with it,
/// asked for with and without <c>Accept-Encoding</c>: a compressed copy, made once when the file is loaded,
/// must cost a hit no more than the file itself (time aside, the bytes written are fewer).
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet ends the run with [GlobalCleanup], which disposes it.")]
public class CompressHotPathBenchmarks
{
    private string _folder = null!;
    private ServiceProvider _services = null!;
    private ProductionServingMiddleware _middleware = null!;
    private DefaultHttpContext _plain = null!;
    private DefaultHttpContext _identity = null!;
    private DefaultHttpContext _brotli = null!;
    private DefaultHttpContext _gzip = null!;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("ps-bench-").FullName;
        var script = new StringBuilder();
        for (var i = 0; script.Length < 32 * 1024; i++)
        {
            script.Append("function f").Append(i).Append("(a,b){return a*").Append(i % 97).Append("+b.v").Append(i % 13).Append(";}");
        }

        File.WriteAllText(Path.Combine(_folder, "app.js"), script.ToString(0, 32 * 1024));
        _services = new ServiceCollection()
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddProductionServing(o =>
            {
                o.Locations.Add(new LocationOptions { Match = "/plain/", Static = new StaticOptions { Alias = _folder + "/" } });
                o.Locations.Add(new LocationOptions { Match = "/", Static = new StaticOptions { Root = _folder }, Compress = new CompressOptions() });
            })
            .BuildServiceProvider();
        _middleware = new ProductionServingMiddleware(_ => Task.CompletedTask, _services.GetRequiredService<ServingConfigHolder>(),
            _services.GetRequiredService<RequestObserver>(), NullLogger<ProductionServingMiddleware>.Instance);
        _plain = NewContext("/plain/app.js", "gzip, deflate, br");
        _identity = NewContext("/app.js", null);
        _brotli = NewContext("/app.js", "gzip, deflate, br");
        _gzip = NewContext("/app.js", "gzip");
        Check(_plain, null);
        Check(_identity, null);
        Check(_brotli, "br");
        Check(_gzip, "gzip");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "GET 32 KiB .js, no Compress")]
    public Task Plain() => Get(_plain);

    [Benchmark(Description = "Compress, no Accept-Encoding")]
    public Task Identity() => Get(_identity);

    [Benchmark(Description = "Compress, br (cached copy)")]
    public Task Brotli() => Get(_brotli);

    [Benchmark(Description = "Compress, gzip (cached copy)")]
    public Task Gzip() => Get(_gzip);

    private Task Get(DefaultHttpContext context) => StaticHotPathBenchmarks.Run(_middleware, context);

    private void Check(DefaultHttpContext context, string? coding)
    {
        Get(context).GetAwaiter().GetResult();
        if (context.Response.StatusCode != StatusCodes.Status200OK || context.Response.Headers.ContentEncoding.ToString() != (coding ?? ""))
        {
            throw new InvalidOperationException($"{context.Request.Path} answered {context.Response.StatusCode} with '{context.Response.Headers.ContentEncoding}', not {coding ?? "identity"}.");
        }
    }

    /// <summary>A GET of <paramref name="path"/>, as <see cref="StaticHotPathBenchmarks"/> makes them, with <paramref name="acceptEncoding"/> if any.</summary>
    private static DefaultHttpContext NewContext(string path, string? acceptEncoding)
    {
        var context = StaticHotPathBenchmarks.NewContext();
        var request = context.Features.Get<IHttpRequestFeature>()!;
        request.Method = HttpMethods.Get;
        request.Path = path;
        request.RawTarget = path;
        if (acceptEncoding is not null)
        {
            context.Request.Headers.AcceptEncoding = acceptEncoding;
        }

        return context;
    }
}
