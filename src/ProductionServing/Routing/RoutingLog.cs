using Microsoft.Extensions.Logging;

namespace ProductionServing.Routing;

/// <summary>Location matching log messages (event ids 1100–1199).</summary>
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
}
