using Microsoft.Extensions.Logging;

namespace ProductionServing.ServiceDiscovery;

/// <summary>Service discovery log messages (event ids 3201–3299).</summary>
internal static partial class DiscoveryLog
{
    [LoggerMessage(EventId = 3201, EventName = "DiscoveryFailed", Level = LogLevel.Warning,
        Message = "Discovering {Discover} failed; its last known servers stay in force and it is tried again in {RetryIn}.")]
    public static partial void DiscoveryFailed(ILogger logger, string discover, TimeSpan retryIn, Exception exception);

    [LoggerMessage(EventId = 3202, EventName = "DiscoverySkippedEndpoint", Level = LogLevel.Warning,
        Message = "Discovering {Discover} gave the endpoint {Endpoint}, which is not an IP address, host name or URL with a port; it is left out.")]
    public static partial void SkippedEndpoint(ILogger logger, string discover, string endpoint);
}
