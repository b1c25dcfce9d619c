using Microsoft.Extensions.Logging;

namespace ProductionServing.Configuration;

/// <summary>Configuration log messages (event ids 1000–1099).</summary>
internal static partial class ConfigLog
{
    [LoggerMessage(EventId = 1001, EventName = "ConfigurationLoaded", Level = LogLevel.Information,
        Message = "ProductionServing configuration loaded: {LocationCount} locations.")]
    public static partial void Loaded(ILogger logger, int locationCount);

    [LoggerMessage(EventId = 1002, EventName = "ConfigurationReloaded", Level = LogLevel.Information,
        Message = "ProductionServing configuration reloaded: {LocationCount} locations.")]
    public static partial void Reloaded(ILogger logger, int locationCount);

    [LoggerMessage(EventId = 1003, EventName = "ConfigurationReloadRejected", Level = LogLevel.Error,
        Message = "ProductionServing configuration reload rejected; the last good configuration stays in force.")]
    public static partial void ReloadRejected(ILogger logger, Exception exception);
}
