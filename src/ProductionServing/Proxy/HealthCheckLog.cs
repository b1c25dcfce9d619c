using System.Net.Http;
using Microsoft.Extensions.Logging;

namespace ProductionServing.Proxy;

/// <summary>
/// Active health check log messages (event ids 3101–3199; <see cref="ProxyLog"/> has 3001–3099). Each
/// cause of a failed check has its own id.
/// </summary>
/// <remarks>Only transitions are logged: a server that keeps failing its checks logs once, not every interval.</remarks>
internal static partial class HealthCheckLog
{
    [LoggerMessage(EventId = 3101, EventName = "HealthCheckFailed", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} answered its health check on {Path} with status {Status}; it gets no requests until a check passes.")]
    public static partial void Failed(ILogger logger, string upstream, string server, string path, int status);

    [LoggerMessage(EventId = 3102, EventName = "HealthCheckPassed", Level = LogLevel.Information,
        Message = "Upstream {Upstream} server {Server} passed its health check on {Path} with status {Status}; it gets requests again.")]
    public static partial void Passed(ILogger logger, string upstream, string server, string path, int status);

    [LoggerMessage(EventId = 3103, EventName = "HealthCheckRoundFailed", Level = LogLevel.Error,
        Message = "A health check round of upstream {Upstream} failed unexpectedly; checks go on at the next interval.")]
    public static partial void RoundFailed(ILogger logger, string upstream, Exception exception);

    [LoggerMessage(EventId = 3104, EventName = "HealthCheckScheduleFailed", Level = LogLevel.Error,
        Message = "Scheduling the health checks of the upstream groups in force failed unexpectedly; retrying at the next reload.")]
    public static partial void ScheduleFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3105, EventName = "HealthCheckTimedOut", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} did not answer its health check on {Path} within Timeout {Timeout}; it gets no requests until a check passes.")]
    public static partial void TimedOut(ILogger logger, string upstream, string server, string path, TimeSpan timeout);

    [LoggerMessage(EventId = 3106, EventName = "HealthCheckUnreachable", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} could not be reached for its health check on {Path} ({Error}); it gets no requests until a check passes.")]
    public static partial void Unreachable(ILogger logger, string upstream, string server, string path, HttpRequestError error, Exception exception);

    [LoggerMessage(EventId = 3107, EventName = "HealthCheckRemoved", Level = LogLevel.Information,
        Message = "Upstream {Upstream} server {Server} gets requests again: a reload removed the HealthCheck it had failed.")]
    public static partial void Removed(ILogger logger, string upstream, string server);
}
