using System.Text.Json;
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

    private ServingSnapshot(string fingerprint, List<Location> locations, LocationMatcher matcher, Location unmatched, bool hasStatic)
    {
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

    /// <summary>Whether any location serves static files (so app responses may hand off with <c>X-Accel-Redirect</c>).</summary>
    public bool HasStatic { get; }

    /// <summary>Compiles validated options.</summary>
    public static ServingSnapshot Compile(ProductionServingOptions options, ServingEnvironment environment)
    {
        environment.FileCacheBudget.Limit = options.FileCache.SizeLimit;
        var patterns = new LocationPattern[options.Locations.Count];
        var statics = new StaticHandler?[options.Locations.Count];
        for (var i = 0; i < options.Locations.Count; i++)
        {
            var location = options.Locations[i];
            if (!LocationPattern.TryParse(location.Match, out patterns[i], out var problem))
            {
                throw new InvalidOperationException($"Locations[{i}].Match: {problem}");
            }

            statics[i] = location.Static is null ? null : new StaticHandler(location.Static, patterns[i], options.FileCache, environment);
        }

        var unmatched = CompileUnmatched(options, environment);

        // Last, when nothing else can fail: building the groups hands the upstream servers' live state
        // over to this snapshot, which a rejected reload must not do.
        var groups = environment.Upstreams.Build(options);
        var locations = new List<Location>(options.Locations.Count);
        for (var i = 0; i < options.Locations.Count; i++)
        {
            var location = options.Locations[i];
            var handler = location.Static is not null ? ServingHandler.Static
                : location.Proxy is not null ? ServingHandler.Proxy
                : ServingHandler.App;
            var pool = handler == ServingHandler.App ? location.App!.Pool : null;
            var proxyHandler = location.Proxy is null ? null : CompileProxy(location.Proxy, patterns[i], groups, environment);
            locations.Add(new Location(patterns[i], location.Internal, new ServingLocation(i, location.Match, handler, pool), statics[i], proxyHandler));
        }

        var hasStatic = unmatched.Static is not null || locations.Exists(static l => l.Static is not null);
        return new ServingSnapshot(Fingerprint(options), locations, new LocationMatcher(locations), unmatched, hasStatic);
    }

    private static ProxyHandler CompileProxy(ProxyOptions proxy, LocationPattern pattern, Dictionary<string, UpstreamGroup> groups, ServingEnvironment environment)
    {
        var pass = new Uri(proxy.Pass!);
        var group = groups.TryGetValue(pass.IdnHost, out var named) ? named : groups[pass.Scheme + "://" + pass.Authority];
        return new ProxyHandler(group, pass, pattern.IsRegex ? null : pattern.Pattern, proxy, environment.Upstreams.Logger);
    }

    private static Location CompileUnmatched(ProductionServingOptions options, ServingEnvironment environment)
    {
        var root = new LocationPattern(LocationKind.Prefix, "/");
        if (options.Locations.Count == 0 && Directory.Exists(environment.WebRoot))
        {
            // With no configuration, existing files of the web root are served and everything else goes
            // to the app: nginx's "try_files $uri @app".
            var defaults = new StaticOptions { TryFiles = ["$uri", "@app"] };
            return new Location(root, isInternal: false, new ServingLocation(-1, match: null, ServingHandler.Static, pool: null),
                new StaticHandler(defaults, root, options.FileCache, environment));
        }

        return new Location(root, isInternal: false, new ServingLocation(-1, match: null, ServingHandler.App, PoolOptions.DefaultPoolName));
    }

    /// <summary>Gives back what this snapshot holds in shared budgets once a reload has replaced it.</summary>
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
