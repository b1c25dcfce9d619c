using System.Text.Json;
using Microsoft.Extensions.Logging;
using ProductionServing.Diagnostics;
using ProductionServing.Directives;
using ProductionServing.Pools;
using ProductionServing.Proxy;
using ProductionServing.Routing;
using ProductionServing.Static;
using ProductionServing.Status;

namespace ProductionServing.Configuration;

/// <summary>
/// A validated configuration compiled for the request path: the location matcher and the handlers.
/// Immutable and shared by all requests; a reload swaps in a new one.
/// </summary>
internal sealed class ServingSnapshot
{
    private readonly string _fingerprint;
    private readonly List<Location> _locations;

    private ServingSnapshot(ProductionServingOptions options, string fingerprint, List<Location> locations, Location unmatched, Location appFallback, bool recordsRequests,
        bool serverTiming, StatusEndpoint? status, AccessLog? accessLog, ClientNetworks? trustedProxies)
    {
        Options = options;
        Status = status;
        TrustedProxies = trustedProxies;
        _fingerprint = fingerprint;
        AccessLog = accessLog;
        RecordsRequests = recordsRequests;
        ServerTiming = serverTiming;
        _locations = locations;
        Matcher = new LocationMatcher(locations);
        Unmatched = unmatched;
        AppFallback = appFallback;
    }

    public LocationMatcher Matcher { get; }

    /// <summary>The validated options this snapshot was compiled from: a discovery change compiles them again.</summary>
    public ProductionServingOptions Options { get; }

    /// <summary>
    /// Where a request that matches no location goes: the app through the default pool or, with no
    /// locations configured and a web root on disk, the web root's files first.
    /// </summary>
    public Location Unmatched { get; }

    /// <summary>
    /// <c>TryFiles</c>' <c>@app</c>: the app through the default pool. Later middleware sees it as the
    /// named location <c>@app</c> (<see cref="ServingLocation.Match"/>), as nginx names one.
    /// </summary>
    public Location AppFallback { get; }

    public int LocationCount => _locations.Count;

    /// <summary>The configured locations, in configuration order.</summary>
    public IReadOnlyList<Location> Locations => _locations;

    /// <summary>The location table as the log shows it (rendered when formatted).</summary>
    public LocationTable.Text Table => new(_locations, Unmatched, Status?.Path);

    /// <summary>The clients whose X-Forwarded-* headers are forwarded as they are; null when none is trusted.</summary>
    public ClientNetworks? TrustedProxies { get; }

    /// <summary>How long requests are still served once the host begins stopping (<see cref="ShutdownOptions.DrainDelay"/>).</summary>
    public TimeSpan DrainDelay { get; private init; }

    /// <summary>The status page, matched before every location; null when it is off.</summary>
    public StatusEndpoint? Status { get; }

    /// <summary>
    /// Whether requests keep a <see cref="Diagnostics.RequestRecord"/> of where their time went: for the
    /// access log, the status page's recent requests and the <c>Server-Timing</c> header.
    /// </summary>
    public bool RecordsRequests { get; }

    /// <summary>Whether handlers add a <c>Server-Timing</c> header (<see cref="Diagnostics.ServerTiming"/>).</summary>
    public bool ServerTiming { get; }

    /// <summary>Whether a location has <c>Headers</c>: a request then sets the headers of the location that serves it as its response starts.</summary>
    public bool HasResponseHeaders { get; private init; }

    /// <summary>The access log, or null when it is off.</summary>
    public AccessLog? AccessLog { get; }

    /// <summary>Compiles validated options.</summary>
    public static ServingSnapshot Compile(ProductionServingOptions options, ServingEnvironment environment)
    {
        environment.FileCacheBudget.Limit = options.FileCache.SizeLimit;
        var patterns = new LocationPattern[options.Locations.Count];
        var statics = new StaticHandler?[options.Locations.Count];
        var compress = new CompressPolicy?[options.Locations.Count];
        StaticHandler? webRoot = null;
        var root = new LocationPattern(LocationKind.Prefix, "/");
        var logger = environment.LoggerFactory.CreateLogger<StaticHandler>();
        ServingSnapshot snapshot;
        try
        {
            for (var i = 0; i < options.Locations.Count; i++)
            {
                var location = options.Locations[i];
                if (!LocationPattern.TryParse(location.Match, out patterns[i], out var problem))
                {
                    throw new InvalidOperationException($"Locations[{i}].Match: {problem}");
                }

                compress[i] = CompressPolicy.For(location);
                statics[i] = location.Static is null ? null
                    : CompileStatic(location.Static, patterns[i], location.Match, compress[i], options, environment, logger);
            }

            // With no locations configured and a web root on disk, existing files of the web root are served
            // and everything else goes to the app: nginx's "try_files $uri @app".
            if (options.Locations.Count == 0 && Directory.Exists(environment.WebRoot))
            {
                webRoot = CompileStatic(new StaticOptions { TryFiles = ["$uri", "@app"] }, root, match: null, compress: null, options, environment, logger);
            }

            snapshot = Assemble(options, environment, patterns, statics, compress, webRoot, root);
        }
        catch
        {
            // Static locations watch their folders from the start: a configuration that fails to compile
            // stops the watches it started.
            environment.Files.Abort();
            throw;
        }

        environment.Files.Commit();
        return snapshot;
    }

    private static StaticHandler CompileStatic(StaticOptions options, LocationPattern pattern, string? match, CompressPolicy? compress,
        ProductionServingOptions serving, ServingEnvironment environment, ILogger logger)
    {
        var folder = Path.GetFullPath(options.Alias ?? options.Root ?? environment.WebRoot, environment.ContentRoot);
        var files = environment.Files.Get(new FileLookupKey(folder, options.Alias is null ? null : pattern.Pattern, options.AllowHiddenFiles,
            options.Precompressed, options.DefaultContentType, serving.FileCache.MaxFileSize, compress));
        return new StaticHandler(options, files, logger, environment.Metrics, match);
    }

    private static ServingSnapshot Assemble(ProductionServingOptions options, ServingEnvironment environment, LocationPattern[] patterns,
        StaticHandler?[] statics, CompressPolicy?[] compress, StaticHandler? webRoot, LocationPattern root)
    {
        // The access log's file is opened (or kept, or switched) first: a path that cannot be written is the
        // last thing that can fail.
        var accessLog = AccessLog.Compile(options, environment);
        var limits = RateLimits(options, patterns);

        // Last, when nothing else can fail: building the groups and pools hands the upstream servers' and
        // pools' live state over to this snapshot (and applies new limits), which a rejected reload must not do.
        var groups = environment.Upstreams.Build(options);
        var pools = environment.Pools.Build(options);
        var rateLimits = environment.RateLimits.Build(limits);
        var defaultApp = new AppHandler(pools[PoolOptions.DefaultPoolName]);
        var locations = new List<Location>(options.Locations.Count);
        var hasResponseHeaders = false;
        for (var i = 0; i < options.Locations.Count; i++)
        {
            var location = options.Locations[i];
            var captures = CaptureCount(patterns[i]);
            LocationHandler handler = statics[i] is { } files ? files
                : location.Proxy is { } proxy ? CompileProxy(proxy, patterns[i], groups, captures)
                : location.Return is { } answer ? new ReturnHandler(answer, captures)
                : new AppHandler(location.App!.Pool is { } pool ? pools[pool] : null);
            var directives = LocationDirectives.Compile(location, captures);
            hasResponseHeaders |= directives?.Headers is not null;

            // A TryFiles @app fallback is part of its location: the app's responses keep its Headers and Compress.
            var kept = directives?.ForAppFallback();
            var fallback = handler is StaticHandler && (kept is not null || compress[i] is not null)
                ? Create(root, isInternal: false, defaultApp, index: -1, match: "@app", kept, compress: compress[i])
                : null;
            locations.Add(Create(patterns[i], location.Internal, handler, i, location.Match, directives, fallback, rateLimits[i], compress[i]));
        }

        return new ServingSnapshot(options, Fingerprint(options), locations,
            unmatched: Create(root, isInternal: false, webRoot is null ? defaultApp : webRoot, index: -1, match: null),
            appFallback: Create(root, isInternal: false, defaultApp, index: -1, match: "@app"),
            recordsRequests: options.AccessLog is not null || options.Status is not null || options.ServerTiming,
            serverTiming: options.ServerTiming,
            status: options.Status is { Path: { } statusPath } status ? new StatusEndpoint(statusPath, ClientNetworks.Parse(status.Allow)) : null,
            accessLog: accessLog,
            trustedProxies: options.TrustedProxies.Count == 0 ? null : ClientNetworks.Parse(options.TrustedProxies))
        {
            HasResponseHeaders = hasResponseHeaders,
            DrainDelay = options.Shutdown.DrainDelay,
        };
    }

    /// <summary>Each location's <c>RateLimit</c> settings and parsed key, or null.</summary>
    private static (RateLimitSettings Settings, VariableTemplate Key)?[] RateLimits(ProductionServingOptions options, LocationPattern[] patterns)
    {
        var limits = new (RateLimitSettings, VariableTemplate)?[options.Locations.Count];
        for (var i = 0; i < limits.Length; i++)
        {
            var location = options.Locations[i];
            if (location.RateLimit is { } rateLimit)
            {
                limits[i] = (RateLimitSettings.From(location.Match, rateLimit), VariableTemplate.Parse(rateLimit.Key, CaptureCount(patterns[i])));
            }
        }

        return limits;
    }

    private static Location Create(LocationPattern pattern, bool isInternal, LocationHandler handler, int index, string? match,
        LocationDirectives? directives = null, Location? appFallback = null, RequestRateLimit? rateLimit = null, CompressPolicy? compress = null) =>
        new(pattern, isInternal, handler, new ServingLocation(index, match, handler.Kind, handler.PoolName, directives))
        {
            UsesCaptures = Math.Max(Math.Max(directives?.HighestCapture ?? 0, handler.HighestCapture), rateLimit?.HighestCapture ?? 0) > 0,
            AppFallback = appFallback,
            RateLimit = rateLimit,
            Compress = compress,
        };

    /// <summary>How many capture groups a regex location has (<c>$1</c>…), 0 for any other location.</summary>
    internal static int CaptureCount(LocationPattern pattern) =>
        pattern.IsRegex ? LocationMatcher.CreateRegex(pattern, compiled: false).GetGroupNumbers().Max() : 0;

    private static ProxyHandler CompileProxy(ProxyOptions proxy, LocationPattern pattern, Dictionary<string, UpstreamGroup> groups, int captures)
    {
        var pass = new Uri(proxy.Pass!);
        var group = groups.TryGetValue(pass.IdnHost, out var named) ? named : groups[pass.Scheme + "://" + pass.Authority];
        return new ProxyHandler(group, pass, pattern.IsRegex ? null : pattern.Pattern, proxy, captures);
    }

    /// <summary>Whether <paramref name="options"/> are the ones this snapshot was compiled from (file watchers fire twice per save).</summary>
    public bool IsBuiltFrom(ProductionServingOptions options) => _fingerprint == Fingerprint(options);

    private static string Fingerprint(ProductionServingOptions options) => JsonSerializer.Serialize(options);
}
