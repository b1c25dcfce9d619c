using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Configuration;
using ProductionServing.Routing;

namespace ProductionServing.Benchmarks;

/// <summary>
/// Location selection time and allocations as prefix locations are added (issue: foundation). Every
/// configuration also has 10 regex locations, an exact location and a ^~ location, so the prefix case
/// pays the regex search that nginx's rules require after a plain prefix match.
/// </summary>
[MemoryDiagnoser]
public class LocationSelectionBenchmarks
{
    private const int RegexCount = 10;
    private LocationMatcher _matcher = null!;
    private string _prefixPath = null!;
    private string _deepPrefixPath = null!;

    [Params(10, 100, 1_000, 10_000)]
    public int Prefixes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new ProductionServingOptions();
        for (var i = 0; i < Prefixes; i++)
        {
            Add(options, $"/section{i:D5}/");
        }

        for (var i = 0; i < RegexCount; i++)
        {
            Add(options, $@"~* \.ext{i}$");
        }

        Add(options, "= /healthz");
        Add(options, "^~ /assets/");
        var result = new ProductionServingOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        if (result.Failed)
        {
            throw new InvalidOperationException(result.FailureMessage);
        }

        var metrics = WorkerPoolBenchmarks.UnreadMetrics();
        var environment = new ServingEnvironment(AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "wwwroot"),
            new ProductionServing.Static.FileCacheBudget(),
            new ProductionServing.Proxy.UpstreamRegistry(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, metrics),
            new ProductionServing.Pools.PoolRegistry(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, metrics),
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            metrics);
        _matcher = ServingSnapshot.Compile(options, environment).Matcher;
        _prefixPath = $"/section{Prefixes / 2:D5}/index.html";
        _deepPrefixPath = $"/section{Prefixes - 1:D5}/a/rather/deep/path/to/some/resource/file.json";
        Check(Exact(), "= /healthz");
        Check(PrefixNoRegex(), "^~ /assets/");
        Check(Prefix(), $"/section{Prefixes / 2:D5}/");
        Check(DeepPrefix(), $"/section{Prefixes - 1:D5}/");
        Check(LastRegex(), $@"~* \.ext{RegexCount - 1}$");
        Check(NoMatch(), null);
    }

    [Benchmark(Description = "exact (= /healthz)")]
    public ServingLocation? Exact() => _matcher.Select("/healthz")?.Feature;

    [Benchmark(Description = "^~ prefix, no regex search")]
    public ServingLocation? PrefixNoRegex() => _matcher.Select("/assets/js/app.js")?.Feature;

    [Benchmark(Description = "prefix + 10 regexes tried")]
    public ServingLocation? Prefix() => _matcher.Select(_prefixPath)?.Feature;

    [Benchmark(Description = "deep prefix + 10 regexes tried")]
    public ServingLocation? DeepPrefix() => _matcher.Select(_deepPrefixPath)?.Feature;

    [Benchmark(Description = "10th regex matches")]
    public ServingLocation? LastRegex() => _matcher.Select("/downloads/file.ext9")?.Feature;

    [Benchmark(Description = "no match (app)")]
    public ServingLocation? NoMatch() => _matcher.Select("/nothing/here.txt")?.Feature;

    private static void Add(ProductionServingOptions options, string match) =>
        options.Locations.Add(new LocationOptions { Match = match, App = new AppOptions() });

    private static void Check(ServingLocation? selected, string? expected)
    {
        if (selected?.Match != expected)
        {
            throw new InvalidOperationException($"Selected '{selected?.Match}', expected '{expected}'.");
        }
    }
}
