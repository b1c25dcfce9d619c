using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using ProductionServing.Static;

namespace ProductionServing.Diagnostics;

/// <summary>
/// The instruments of the <c>ProductionServing</c> meter (docs/observability.md, "Metrics", lists each with its unit, tags
/// and meaning). Names follow the OpenTelemetry conventions: dotted lower-case, UCUM units, durations in
/// seconds, and tags from closed sets (a location is its <c>Match</c> text, never the request's path).
/// </summary>
/// <remarks>
/// What the built-in meters already measure is not measured again: ASP.NET Core's
/// <c>http.server.request.duration</c> gets the location as <c>http.route</c> (see
/// <see cref="RequestObserver"/>), Kestrel counts connections, and <c>System.Net.Http</c> counts the
/// upstream connections and their requests. These instruments add what only ProductionServing knows:
/// which location and handler served a request and why it failed, the file cache, the upstream servers'
/// attempts and health, and the pools' queues. Each record method checks <c>Enabled</c> first, so an
/// instrument no listener observes costs a field read (ASP.NET Core's <c>RateLimitingMetrics</c> does the same).
/// </remarks>
internal sealed partial class ServingMetrics
{
    public const string MeterName = "ProductionServing";

    /// <summary>The tag of a location's <c>Match</c> text (absent when no location matched).</summary>
    public const string LocationTag = "production_serving.location";

    /// <summary>The tag of the handler that served a request: <c>static</c>, <c>proxy</c> or <c>app</c>.</summary>
    public const string HandlerTag = "production_serving.handler";

    /// <summary>The tag of an upstream group's name.</summary>
    public const string UpstreamTag = "production_serving.upstream";

    /// <summary>The tag of a worker pool's name.</summary>
    public const string PoolTag = "production_serving.pool";

    /// <summary>OpenTelemetry's attribute for why an operation failed; the values are <see cref="ErrorTypes"/>.</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>The tag of a static request's cache outcome: <c>hit</c> or <c>miss</c>.</summary>
    public const string CacheResultTag = "production_serving.cache.result";

    /// <summary>OpenTelemetry's attribute for the response's status code.</summary>
    public const string StatusCodeTag = "http.response.status_code";

    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _cacheRequests;
    private readonly Counter<long> _staticBytesSent;
    private readonly Counter<long> _accessLogDropped;
    private readonly Counter<long> _rateLimitRejections;

    public ServingMetrics(IMeterFactory meterFactory, FileCacheBudget fileCache)
    {
        Meter = meterFactory.Create(MeterName);
        _requestDuration = Meter.CreateHistogram(
            "production_serving.request.duration",
            unit: "s",
            description: "Time ProductionServing took to serve a request, from its middleware to the handler's end, by the location and handler that served it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _cacheRequests = Meter.CreateCounter<long>(
            "production_serving.static.cache.requests",
            unit: "{request}",
            description: "Static file requests answered from the file cache (hit) or from disk (miss).");
        _staticBytesSent = Meter.CreateCounter<long>(
            "production_serving.static.bytes_sent",
            unit: "By",
            description: "Bytes of file content sent by static locations (body bytes, after ranges).");
        Meter.CreateObservableUpDownCounter(
            "production_serving.static.cache.size",
            fileCache.GetUsed,
            unit: "By",
            description: "Bytes of file content the static locations hold in memory, compressed copies (Compress) included (bounded by FileCache.SizeLimit).");
        Meter.CreateObservableUpDownCounter(
            "production_serving.static.cache.entries",
            fileCache.GetEntries,
            unit: "{file}",
            description: "Files the static locations know (with their content in memory or not).");
        _accessLogDropped = Meter.CreateCounter<long>(
            "production_serving.access_log.dropped",
            unit: "{line}",
            description: "Access-log lines dropped because the file writer's buffer was full.");
        _rateLimitRejections = Meter.CreateCounter<long>(
            "production_serving.rate_limit.rejections",
            unit: "{request}",
            description: "Requests a location's RateLimit refused with 429 (over the rate and burst, or with the delay queue full).");
        CreatePoolInstruments();
        CreateUpstreamInstruments();
    }

    /// <summary>
    /// The boundaries OpenTelemetry's HTTP conventions advise for durations in seconds (the same as
    /// <c>http.server.request.duration</c>), so both can be read on one dashboard.
    /// </summary>
    public static IReadOnlyList<double> DurationBuckets { get; } =
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    public Meter Meter { get; }

    public bool RequestDurationEnabled => _requestDuration.Enabled;

    /// <summary>Records a request's end: <paramref name="location"/> is the one that finally served it (after internal redirects).</summary>
    /// <remarks>A request answered before any location was selected (a malformed target) has no location and no handler tag.</remarks>
    public void RequestEnded(ServingLocation? location, int statusCode, string? errorType, TimeSpan duration)
    {
        if (_requestDuration.Enabled)
        {
            RequestEndedCore(location, statusCode, errorType, duration);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RequestEndedCore(ServingLocation? location, int statusCode, string? errorType, TimeSpan duration)
    {
        var tags = new TagList { { StatusCodeTag, StatusCodes.Boxed(statusCode) } };
        if (location is not null)
        {
            tags.Add(HandlerTag, HandlerName(location.Handler));
            if (location.Match is { } match)
            {
                tags.Add(LocationTag, match);
            }
        }

        if (errorType is not null)
        {
            tags.Add(ErrorTypeTag, errorType);
        }

        _requestDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>
    /// Counts a file a static location answered with: whether its content is held in memory (a cache hit)
    /// or read from disk (a miss: larger than <c>FileCache.MaxFileSize</c>, or the cache's <c>SizeLimit</c> was
    /// reached), and the body bytes sent (none for HEAD, 304 and 412).
    /// </summary>
    /// <param name="location">The location's <c>Match</c>, or null for the configuration-free web root.</param>
    /// <param name="inMemory">Whether the content came from the cache.</param>
    /// <param name="bytes">Body bytes sent.</param>
    public void StaticFileSent(string? location, bool inMemory, long bytes)
    {
        if (_cacheRequests.Enabled)
        {
            _cacheRequests.Add(1, new KeyValuePair<string, object?>(LocationTag, location),
                new KeyValuePair<string, object?>(CacheResultTag, inMemory ? "hit" : "miss"));
        }

        if (bytes > 0 && _staticBytesSent.Enabled)
        {
            _staticBytesSent.Add(bytes, new KeyValuePair<string, object?>(LocationTag, location));
        }
    }

    public void AccessLogDropped(long lines)
    {
        if (lines > 0)
        {
            _accessLogDropped.Add(lines);
        }
    }

    /// <summary>Counts a request that <paramref name="location"/>'s <c>RateLimit</c> refused.</summary>
    /// <param name="location">The location's <c>Match</c>.</param>
    public void RateLimitRejected(string? location)
    {
        if (_rateLimitRejections.Enabled)
        {
            _rateLimitRejections.Add(1, new KeyValuePair<string, object?>(LocationTag, location));
        }
    }

    /// <summary>The value of <see cref="HandlerTag"/>.</summary>
    public static string HandlerName(ServingHandler handler) => handler switch
    {
        ServingHandler.Static => "static",
        ServingHandler.Proxy => "proxy",
        ServingHandler.Return => "return",
        _ => "app",
    };

    /// <summary>Status codes boxed once, so a tag costs no allocation (ASP.NET Core's hosting metrics keep the same cache).</summary>
    private static class StatusCodes
    {
        private static readonly object[] Values = CreateValues();

        public static object Boxed(int statusCode) => (uint)(statusCode - 100) < (uint)Values.Length ? Values[statusCode - 100] : statusCode;

        private static object[] CreateValues()
        {
            var values = new object[500];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = i + 100;
            }

            return values;
        }
    }
}
