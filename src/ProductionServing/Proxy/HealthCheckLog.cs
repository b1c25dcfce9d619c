using Microsoft.Extensions.Logging;

namespace ProductionServing.Proxy;

/// <summary>Active health check log messages (event ids 3101–3199; <see cref="ProxyLog"/> has 3001–3099).</summary>
/// <remarks>Only transitions are logged: a server that keeps failing its checks logs once, not every interval.</remarks>
internal static partial class HealthCheckLog
{
    [LoggerMessage(EventId = 3101, EventName = "HealthCheckFailed", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} failed its health check on {Path} ({Reason}); it gets no requests until a check passes.")]
    public static partial void Failed(ILogger logger, string upstream, string server, string path, string reason, Exception? exception);

    [LoggerMessage(EventId = 3102, EventName = "HealthCheckPassed", Level = LogLevel.Information,
        Message = "Upstream {Upstream} server {Server} is healthy again ({Reason}); it gets requests again.")]
    public static partial void Passed(ILogger logger, string upstream, string server, string reason);

    [LoggerMessage(EventId = 3103, EventName = "HealthCheckRoundFailed", Level = LogLevel.Error,
        Message = "A health check round of upstream {Upstream} failed unexpectedly; checks go on at the next interval.")]
    public static partial void RoundFailed(ILogger logger, string upstream, Exception exception);

    [LoggerMessage(EventId = 3104, EventName = "HealthCheckScheduleFailed", Level = LogLevel.Error,
        Message = "Scheduling the health checks of the upstream groups in force failed unexpectedly; retrying shortly.")]
    public static partial void ScheduleFailed(ILogger logger, Exception exception);
}
