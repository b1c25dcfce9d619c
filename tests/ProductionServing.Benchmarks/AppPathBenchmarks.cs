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
/// What the middleware adds to a request the app answers, without Kestrel or sockets: location
/// selection, the <c>X-Accel-Redirect</c> watch on the app's response, and the pool's admission. The
/// app writes a short body, as through <c>Results.Text</c>. <see cref="WithStatic"/> adds a static
/// location to the configuration (which decided, before the handoff applied to every location, whether
/// app responses were watched at all). <see cref="Listened"/> attaches a listener to every instrument of the
/// <c>ProductionServing</c> meter, whose callbacks do nothing: what the instruments cost once observed,
/// without an exporter's own work.
/// </summary>
[MemoryDiagnoser]
public class AppPathBenchmarks
{
    private static readonly byte[] Body = "hello"u8.ToArray();

    private ServiceProvider _services = null!;
    private ProductionServingMiddleware _middleware = null!;
    private DefaultHttpContext _context = null!;
    private IHttpRequestFeature _request = null!;
    private MeterListener? _listener;

    [Params(false, true)]
    public bool WithStatic { get; set; }

    [Params(false, true)]
    public bool Listened { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var folder = Path.GetTempPath();
        _services = new ServiceCollection()
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddProductionServing(o =>
            {
                o.Locations.Add(new LocationOptions { Match = "= /direct", App = new AppOptions { Pool = null } });
                o.Locations.Add(new LocationOptions { Match = "= /pooled", App = new AppOptions() });
                if (WithStatic)
                {
                    o.Locations.Add(new LocationOptions { Match = "/static/", Static = new StaticOptions { Alias = folder } });
                }
            })
            .BuildServiceProvider();
        _middleware = new ProductionServingMiddleware(static context => context.Response.Body.WriteAsync(Body, 0, Body.Length),
            _services.GetRequiredService<ServingConfigHolder>(), _services.GetRequiredService<RequestObserver>(),
            NullLogger<ProductionServingMiddleware>.Instance);
        _context = new DefaultHttpContext();
        _context.Response.Body = Stream.Null;
        _request = _context.Features.Get<IHttpRequestFeature>()!;
        _request.Method = HttpMethods.Get;
        if (Listened)
        {
            _listener = Listen();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _services.Dispose();
    }

    [Benchmark(Description = "app, Pool: null")]
    public Task Direct() => Invoke("/direct");

    [Benchmark(Description = "app, default pool")]
    public Task Pooled() => Invoke("/pooled");

    /// <summary>A listener on every ProductionServing instrument, whose callbacks do nothing.</summary>
    private static MeterListener Listen()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == ServingMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        listener.SetMeasurementEventCallback<int>(static (_, _, _, _) => { });
        listener.Start();
        return listener;
    }

    private Task Invoke(string path)
    {
        _request.Path = path;
        _request.RawTarget = path;
        _context.Response.Headers.Clear();
        _context.Response.StatusCode = 200;
        return _middleware.Invoke(_context);
    }
}
