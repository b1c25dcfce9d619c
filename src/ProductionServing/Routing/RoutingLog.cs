using Microsoft.Extensions.Logging;

namespace ProductionServing.Routing;

/// <summary>
/// Location matching and internal redirect log messages (event ids 1100–1199; the two redirect events
/// keep the 2xxx ids they had when only static locations redirected: ids are never renumbered).
/// </summary>
internal static partial class RoutingLog
{
    [LoggerMessage(EventId = 1101, EventName = "RequestTargetRejected", Level = LogLevel.Debug,
        Message = "Request target {RequestTarget} is malformed or climbs above '/'; answered 400.")]
    public static partial void RequestTargetRejected(ILogger logger, string? requestTarget);

    [LoggerMessage(EventId = 1102, EventName = "RegexMatchTimedOut", Level = LogLevel.Error,
        Message = "Matching the path against location regex {Pattern} took longer than {Timeout}; answered 500. Simplify the pattern.")]
    public static partial void RegexMatchTimedOut(ILogger logger, string pattern, TimeSpan timeout, Exception exception);

    [LoggerMessage(EventId = 1103, EventName = "InternalLocationRequested", Level = LogLevel.Debug,
        Message = "A client requested internal location {Match}; answered 404.")]
    public static partial void InternalLocationRequested(ILogger logger, string? match);

    [LoggerMessage(EventId = 1104, EventName = "LocationTable", Level = LogLevel.Information,
        Message = "ProductionServing locations in force ({LocationCount}; # is the index in Locations, regexes are numbered in the order they are tried):{Table}")]
    public static partial void LocationTable(ILogger logger, int locationCount, LocationTable.Text table);

    [LoggerMessage(EventId = 1120, EventName = "ClientForbidden", Level = LogLevel.Debug,
        Message = "Client {RemoteAddress} is not in the Allow list of location {Match}; answered 403.")]
    public static partial void ClientForbidden(ILogger logger, System.Net.IPAddress? remoteAddress, string? match);

    [LoggerMessage(EventId = 1121, EventName = "RequestBodyTooLarge", Level = LogLevel.Debug,
        Message = "Request body of {ContentLength} bytes is over the MaxBodySize {Limit} of location {Match}; answered 413.")]
    public static partial void RequestBodyTooLarge(ILogger logger, long? contentLength, long? limit, string? match);

    // nginx logs "limiting requests, excess: … by zone …" at error level (limit_req_log_level), one line per refused
    // request: a flood of refusals is the limit working, not a fault of the server, and an Error per request
    // would bury real faults. The counter production_serving.rate_limit.rejections is what to alert on.
    [LoggerMessage(EventId = 1130, EventName = "RequestRateLimited", Level = LogLevel.Debug,
        Message = "Location {Match}'s RateLimit refused a request over its rate and burst; answered 429 with Retry-After {RetryAfter}.")]
    public static partial void RequestRateLimited(ILogger logger, string? match, TimeSpan retryAfter);

    [LoggerMessage(EventId = 2003, EventName = "InternalRedirectLoop", Level = LogLevel.Error,
        Message = "Internal redirects for {Path} exceeded {Limit} (TryFiles, X-Accel-Redirect or @app loop); answered 500.")]
    public static partial void InternalRedirectLoop(ILogger logger, string path, int limit);

    [LoggerMessage(EventId = 2005, EventName = "AccelRedirectUnsafe", Level = LogLevel.Warning,
        Message = "X-Accel-Redirect to {Path} is malformed or has '.' or '..' segments; answered 404.")]
    public static partial void AccelRedirectUnsafe(ILogger logger, string path);
}
