using System.Text.Json;
using ProductionServing.Pools;
using ProductionServing.Proxy;
using ProductionServing.Routing;
using ProductionServing.Static;

namespace ProductionServing.Configuration;

/// <summary>
/// A validated configuration compiled for the request path: the location matcher and the handlers.
/// Immutable and shared by all requests; a reload swaps in a new one.
/// </summary>
internal sealed class ServingSnapshot
{
    private readonly string _fingerprint;
    private readonly List<Location> _locations;

    private ServingSnapshot(string fingerprint, List<Location> locations, LocationMatcher matcher, Location unmatched, bool hasStatic,
        WorkerPool defaultPool)
    {
        DefaultPool = defaultPool;
        _fingerprint = fingerprint;
        _locations = locations;
        Matcher = matcher;
        Unmatched = unmatched;
        LocationCount = locations.Count;
        HasStatic = hasStatic;
    }

    public LocationMatcher Matcher { get; }

    /// <summary>
    /// Where a request that matches no location goes: the app through the default pool or, with no
    /// locations configured and a web root on disk, the web root's files first (SPEC §3).
    /// </summary>
    public Location Unmatched { get; }

    public int LocationCount { get; }

    /// <summary>The pool of unmatched requests and of <c>TryFiles</c>' <c>@app</c> fallback.</summary>
    public WorkerPool DefaultPool { get; }

    /// <summary>Whether any location serves static files (so app responses may hand off with <c>X-Accel-Redirect</c>).</summary>
    public bool HasStatic { get; }

    /// <summary>Compiles validated options.</summary>
    public static ServingSnapshot Compile(ProductionServingOptions options, ServingEnvironment environment)
    {
        environment.FileCacheBudget.Limit = options.FileCache.SizeLimit;
        var patterns = new LocationPattern[options.Locations.Count];
        var statics = new StaticHandler?[options.Locations.Count];
        StaticHandler? webRoot = null;
        var root = new LocationPattern(LocationKind.Prefix, "/");
        try
        {
            for (var i = 0; i < options.Locations.Count; i++)
            {
                var location = options.Locations[i];
                if (!LocationPattern.TryParse(location.Match, out patterns[i], out var problem))
                {
                    throw new InvalidOperationException($"Locations[{i}].Match: {problem}");
                }

                statics[i] = location.Static is null ? null : new StaticHandler(location.Static, patterns[i], options.FileCache, environment);
            }

            webRoot = CompileWebRoot(options, root, environment);
            return Assemble(options, environment, patterns, statics, webRoot, root);
        }
        catch
        {
            // Static handlers watch their folders from the start: a configuration that fails to compile stops them.
            foreach (var handler in statics)
            {
                handler?.Files.Clear();
            }

            webRoot?.Files.Clear();
            throw;
        }
    }

    private static ServingSnapshot Assemble(ProductionServingOptions options, ServingEnvironment environment, LocationPattern[] patterns,
        StaticHandler?[] statics, StaticHandler? webRoot, LocationPattern root)
    {
        // Last, when nothing else can fail: building the groups and pools hands the upstream servers' and
        // pools' live state over to this snapshot (and applies new limits), which a rejected reload must not do.
        var groups = environment.Upstreams.Build(options);
        var pools = environment.Pools.Build(options);
        var defaultPool = pools[PoolOptions.DefaultPoolName];
        var unmatched = webRoot is not null
            ? new Location(root, isInternal: false, new ServingLocation(-1, match: null, ServingHandler.Static, pool: null), webRoot)
            : new Location(root, isInternal: false, new ServingLocation(-1, match: null, ServingHandler.App, defaultPool.Name), pool: defaultPool);
        var locations = new List<Location>(options.Locations.Count);
        for (var i = 0; i < options.Locations.Count; i++)
        {
            var location = options.Locations[i];
            var handler = location.Static is not null ? ServingHandler.Static
                : location.Proxy is not null ? ServingHandler.Proxy
                : ServingHandler.App;
            var pool = handler == ServingHandler.App && location.App!.Pool is { } poolName ? pools[poolName] : null;
            var proxyHandler = location.Proxy is null ? null : CompileProxy(location.Proxy, patterns[i], groups, environment);
            locations.Add(new Location(patterns[i], location.Internal, new ServingLocation(i, location.Match, handler, pool?.Name),
                statics[i], proxyHandler, pool));
        }

        var hasStatic = unmatched.Static is not null || locations.Exists(static l => l.Static is not null);
        return new ServingSnapshot(Fingerprint(options), locations, new LocationMatcher(locations), unmatched, hasStatic, defaultPool);
    }

    private static ProxyHandler CompileProxy(ProxyOptions proxy, LocationPattern pattern, Dictionary<string, UpstreamGroup> groups, ServingEnvironment environment)
    {
        var pass = new Uri(proxy.Pass!);
        var group = groups.TryGetValue(pass.IdnHost, out var named) ? named : groups[pass.Scheme + "://" + pass.Authority];
        return new ProxyHandler(group, pass, pattern.IsRegex ? null : pattern.Pattern, proxy, environment.Upstreams.Logger);
    }

    /// <summary>
    /// With no locations configured and a web root on disk, existing files of the web root are served and
    /// everything else goes to the app: nginx's <c>try_files $uri @app</c> (SPEC §3).
    /// </summary>
    private static StaticHandler? CompileWebRoot(ProductionServingOptions options, LocationPattern root, ServingEnvironment environment) =>
        options.Locations.Count == 0 && Directory.Exists(environment.WebRoot)
            ? new StaticHandler(new StaticOptions { TryFiles = ["$uri", "@app"] }, root, options.FileCache, environment)
            : null;

    /// <summary>Gives back what this snapshot holds in shared budgets and stops watching its folders, once a reload has replaced it or the host stops.</summary>
    public void Retire()
    {
        Unmatched.Static?.Files.Clear();
        foreach (var location in _locations)
        {
            location.Static?.Files.Clear();
        }
    }

    /// <summary>Whether <paramref name="options"/> are the ones this snapshot was compiled from (file watchers fire twice per save).</summary>
    public bool IsBuiltFrom(ProductionServingOptions options) => _fingerprint == Fingerprint(options);

    private static string Fingerprint(ProductionServingOptions options) => JsonSerializer.Serialize(options);
}
