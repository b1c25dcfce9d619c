using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using ProductionServing.Status;

namespace ProductionServing.Diagnostics;

/// <summary>
/// Observes each request's end, once, after internal redirects and whatever the handler did: records
/// the request metrics, names the location as <c>http.route</c> on ASP.NET Core's own request metric,
/// and hands the request to the access log and the status page when they are on.
/// </summary>
internal sealed class RequestObserver(ServingMetrics metrics, TimeProvider time, StatusMonitor status, ILogger<RequestObserver> logger)
{
    /// <summary>nginx's status for a request whose client closed the connection before the response began.</summary>
    public const int ClientClosedRequest = 499;

    private const string RouteTag = "http.route";

    public ServingMetrics Metrics { get; } = metrics;

    public TimeProvider Time { get; } = time;

    /// <summary>The status page's live figures (inert until a configuration with the status page is in force).</summary>
    public StatusMonitor Status { get; } = status;

    /// <summary>
    /// Whether <see cref="Ended"/> would do anything for the request: something reads its record, listens
    /// to the request metrics (ours, or ASP.NET Core's, whose tags feature exists only then), or records its
    /// span. When nothing does, the middleware hands back the handler's task instead of waiting for it.
    /// </summary>
    public bool Observes(HttpContext context, RequestRecord? record) =>
        record is not null
        || Metrics.RequestDurationEnabled
        || Activity.Current is { Recorded: true, IsAllDataRequested: true }
        || context.Features.Get<IHttpMetricsTagsFeature>() is not null;

    /// <summary>Observes the end of a request that the middleware took at <paramref name="start"/>.</summary>
    /// <param name="context">The request.</param>
    /// <param name="start">A timestamp of <see cref="Time"/>.</param>
    /// <param name="record">Where its time went, when something reads it.</param>
    /// <param name="threw">Whether the handler's task ended with an exception (the app threw).</param>
    public void Ended(HttpContext context, long start, RequestRecord? record, bool threw)
    {
        var location = context.Features.Get<ServingLocation>();
        var response = context.Response;

        // nginx's 499 when the client went away before anything was sent: no status ever reached it, and
        // every reader (metrics, access log, status page) should tell it from a server error. Otherwise an
        // exception that escapes becomes Kestrel's 500 (when nothing was sent yet) after this runs.
        var errorType = ErrorTypeOf(context, threw);
        var statusCode = response.HasStarted ? response.StatusCode
            : errorType == ErrorTypes.ClientAborted ? ClientClosedRequest
            : threw ? StatusCodes.Status500InternalServerError
            : response.StatusCode;
        if (location is not null)
        {
            NameRoute(context, location);
        }

        // Only a span a tracer records: ASP.NET Core also makes an activity for every request when logging
        // is on (for its scopes), which nothing exports, and each tag would be an allocation on it.
        if (Activity.Current is { Recorded: true, IsAllDataRequested: true } activity)
        {
            TagSpan(activity, location, errorType);
        }

        var end = Time.GetTimestamp();
        Metrics.RequestEnded(location, statusCode, errorType, Time.GetElapsedTime(start, end));

        // The access log and the status page's recent requests read the record.
        if (record is not null)
        {
            Observe(context, location, statusCode, errorType, end - start, record);
        }
    }

    /// <summary>
    /// Hands the request to the access log and the status page. The request was served: a failure here
    /// (a logging provider's, say) is logged, and must neither fail the request nor replace the app's
    /// own exception on its way out.
    /// </summary>
    private void Observe(HttpContext context, ServingLocation? location, int statusCode, string? errorType, long ticks, RequestRecord record)
    {
        try
        {
            record.AccessLog?.End(context, record, location, statusCode, errorType);
            Status.Observe(context, location, statusCode, errorType, ticks, record);
        }
        catch (Exception exception)
        {
            DiagnosticsLog.RequestObservationFailed(logger, context.Request.Method, context.Request.Path.Value ?? "", exception);
        }
    }

    /// <summary>The request's <c>error.type</c>, or null when it succeeded.</summary>
    public static string? ErrorTypeOf(HttpContext context, bool threw)
    {
        if (context.Features.Get<ServingErrorFeature>() is { } error)
        {
            return error.ErrorType;
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            return ErrorTypes.ClientAborted;
        }

        return threw ? ErrorTypes.AppException : null;
    }

    /// <summary>
    /// The request's span (ASP.NET Core's activity, when a tracer samples it) gets the same names as the
    /// metrics: the location, the handler and <c>error.type</c>, and <c>http.route</c> where routing never ran.
    /// </summary>
    private static void TagSpan(Activity activity, ServingLocation? location, string? errorType)
    {
        if (location is not null)
        {
            activity.SetTag(ServingMetrics.HandlerTag, ServingMetrics.HandlerName(location.Handler));
            if (location.Match is { } match)
            {
                activity.SetTag(ServingMetrics.LocationTag, match);
                if (location.Handler != ServingHandler.App)
                {
                    activity.SetTag(RouteTag, match);
                }
            }
        }

        if (errorType is not null)
        {
            activity.SetTag(ServingMetrics.ErrorTypeTag, errorType);
        }
    }

    /// <summary>
    /// ASP.NET Core's <c>http.server.request.duration</c> takes <c>http.route</c> from the endpoint routing
    /// chose; a request a static or proxy location served never reaches routing, so without this every such
    /// request lands in one series with no route. The location's <c>Match</c> is its route (low-cardinality,
    /// as the convention asks). An app location leaves the route to the app's endpoint, which knows it better.
    /// The feature exists only while someone listens to that metric.
    /// </summary>
    private static void NameRoute(HttpContext context, ServingLocation location)
    {
        if (location.Handler != ServingHandler.App && location.Match is { } match
            && context.Features.Get<IHttpMetricsTagsFeature>() is { } tags)
        {
            tags.Tags.Add(new KeyValuePair<string, object?>(RouteTag, match));
        }
    }
}
