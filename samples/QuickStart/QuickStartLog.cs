namespace QuickStart;

/// <summary>The sample's own log messages.</summary>
internal static partial class QuickStartLog
{
    [LoggerMessage(EventId = 1, EventName = "TryThese", Level = LogLevel.Information, Message = "Try these:{Urls}")]
    public static partial void TryThese(ILogger logger, string urls);
}
