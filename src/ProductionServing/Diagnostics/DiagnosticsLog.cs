using Microsoft.Extensions.Logging;

namespace ProductionServing.Diagnostics;

/// <summary>Diagnostics log messages: the access log (event ids 5101–5199).</summary>
internal static partial class DiagnosticsLog
{
    /// <summary>One access-log line, on the category <see cref="AccessLog.Category"/>, when the log has no file.</summary>
    [LoggerMessage(EventId = 5101, EventName = "AccessLogLine", Level = LogLevel.Information, Message = "{Line}")]
    public static partial void AccessLogLine(ILogger logger, string line);

    [LoggerMessage(EventId = 5102, EventName = "AccessLogLinesDropped", Level = LogLevel.Warning,
        Message = "Access log {Path}: {Dropped} lines dropped because the writer's buffer was full (the disk is behind); this warning repeats at most every {Interval}.")]
    public static partial void AccessLogLinesDropped(ILogger logger, string path, long dropped, TimeSpan interval);

    [LoggerMessage(EventId = 5103, EventName = "AccessLogWriteFailed", Level = LogLevel.Error,
        Message = "Access log {Path}: writing failed and {Lost} lines were lost; the file is opened again for the next lines. This error repeats at most every {Interval}.")]
    public static partial void AccessLogWriteFailed(ILogger logger, string path, long lost, TimeSpan interval, Exception exception);

    [LoggerMessage(EventId = 5104, EventName = "RequestObservationFailed", Level = LogLevel.Warning,
        Message = "The access log or the status page failed to take a request that was already served ({Method} {Path}); the request is not affected.")]
    public static partial void RequestObservationFailed(ILogger logger, string method, string path, Exception exception);
}
