using System.Net.Http;
using Microsoft.Extensions.Logging;

namespace ProductionServing.Proxy;

/// <summary>
/// Upstream forwarding log messages (event ids 3001–3099; <see cref="HealthCheckLog"/> has 3101–3199).
/// Each distinct failure has its own id; the exception, when there is one, carries the details.
/// </summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 3001, EventName = "UpstreamRefused", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} could not be connected to ({Error}).")]
    public static partial void UpstreamRefused(ILogger logger, string upstream, string server, HttpRequestError error, Exception exception);

    [LoggerMessage(EventId = 3002, EventName = "UpstreamFailed", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} reset or closed the connection before its response ({Error}).")]
    public static partial void UpstreamFailed(ILogger logger, string upstream, string server, HttpRequestError error, Exception exception);

    [LoggerMessage(EventId = 3003, EventName = "UpstreamTimedOut", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} sent no response within ReadTimeout {ReadTimeout}.")]
    public static partial void UpstreamTimedOut(ILogger logger, string upstream, string server, TimeSpan readTimeout);

    [LoggerMessage(EventId = 3004, EventName = "UpstreamServerDown", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} is out for {FailTimeout} after {MaxFails} failed attempts.")]
    public static partial void UpstreamServerDown(ILogger logger, string upstream, string server, TimeSpan failTimeout, int maxFails);

    [LoggerMessage(EventId = 3005, EventName = "NoLiveUpstream", Level = LogLevel.Error,
        Message = "Upstream {Upstream} has no live server; answered 502.")]
    public static partial void NoLiveUpstream(ILogger logger, string upstream);

    [LoggerMessage(EventId = 3006, EventName = "UpstreamQueueRejected", Level = LogLevel.Warning,
        Message = "Upstream {Upstream}: every server is at MaxConnections and the request got no server ({Reason}); answered 503.")]
    public static partial void UpstreamQueueRejected(ILogger logger, string upstream, AdmissionFailure reason);

    [LoggerMessage(EventId = 3007, EventName = "UpstreamResponseAborted", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} failed after its response started ({Error}); the client connection was aborted.")]
    public static partial void UpstreamResponseAborted(ILogger logger, string upstream, string server, HttpRequestError error, Exception exception);

    [LoggerMessage(EventId = 3008, EventName = "ClientAborted", Level = LogLevel.Debug,
        Message = "The client went away while forwarding to upstream {Upstream} server {Server}; the upstream request was canceled.")]
    public static partial void ClientAborted(ILogger logger, string upstream, string server);

    [LoggerMessage(EventId = 3009, EventName = "RetryingUpstream", Level = LogLevel.Information,
        Message = "Retrying the request on another server of upstream {Upstream} after {Server} failed (attempt {Attempt}).")]
    public static partial void RetryingUpstream(ILogger logger, string upstream, string server, int attempt);

    [LoggerMessage(EventId = 3010, EventName = "UpstreamInvalidResponse", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} sent an invalid response.")]
    public static partial void UpstreamInvalidResponse(ILogger logger, string upstream, string server, Exception exception);

    [LoggerMessage(EventId = 3011, EventName = "WebSocketTunnelClosed", Level = LogLevel.Debug,
        Message = "WebSocket tunnel to upstream {Upstream} server {Server} ended: the {ClosedBy} closed it.")]
    public static partial void WebSocketTunnelClosed(ILogger logger, string upstream, string server, TunnelSide closedBy);

    [LoggerMessage(EventId = 3012, EventName = "UpstreamRequestUnsendable", Level = LogLevel.Warning,
        Message = "The request could not be written to upstream {Upstream} server {Server}; answered 502 without counting it against the server.")]
    public static partial void UpstreamRequestUnsendable(ILogger logger, string upstream, string server, Exception exception);

    [LoggerMessage(EventId = 3013, EventName = "UpstreamConnectTimedOut", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} could not be connected to within ConnectTimeout {ConnectTimeout}.")]
    public static partial void UpstreamConnectTimedOut(ILogger logger, string upstream, string server, TimeSpan connectTimeout);

    [LoggerMessage(EventId = 3014, EventName = "UpstreamResponseTimedOut", Level = LogLevel.Warning,
        Message = "Upstream {Upstream} server {Server} sent no data for ReadTimeout {ReadTimeout} after its response started; the client connection was aborted.")]
    public static partial void UpstreamResponseTimedOut(ILogger logger, string upstream, string server, TimeSpan readTimeout);

    [LoggerMessage(EventId = 3015, EventName = "UpstreamServersDiscovered", Level = LogLevel.Information,
        Message = "Upstream {Upstream} ({Discover}) has {Count} discovered servers now: {Servers}.")]
    public static partial void UpstreamServersDiscovered(ILogger logger, string upstream, string discover, int count, string servers);

    /// <summary>The <see cref="HttpRequestError"/> behind <paramref name="exception"/>, or <see cref="HttpRequestError.Unknown"/>.</summary>
    public static HttpRequestError ErrorOf(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException { HttpRequestError: var error })
            {
                return error;
            }
        }

        return HttpRequestError.Unknown;
    }
}
