using System.Net.Http;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace ProductionServing.Proxy;

/// <summary>
/// WebSockets: an HTTP/1.1 <c>Upgrade: websocket</c> handshake (RFC 6455 §4), or an HTTP/2 extended
/// CONNECT with <c>:protocol websocket</c> (RFC 8441), goes upstream as an HTTP/1.1 upgrade; when the
/// upstream answers 101 both connections become one byte tunnel until either side closes. The frames,
/// the closing handshake included, pass through untouched; when one side ends its stream the other
/// side's connection is closed too.
/// </summary>
internal static class WebSocketTunnel
{
    private const int BufferSize = 4096;
    private const string SecWebSocketKey = "Sec-WebSocket-Key";
    private const string SecWebSocketAccept = "Sec-WebSocket-Accept";

    /// <summary>Which kind of WebSocket handshake the request is, if any.</summary>
    public static WebSocketHandshake HandshakeOf(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true })
        {
            var upgrade = context.Request.Headers.Upgrade;
            return upgrade.Count == 1 && string.Equals(upgrade.ToString(), "websocket", StringComparison.OrdinalIgnoreCase)
                ? WebSocketHandshake.Upgrade
                : WebSocketHandshake.None;
        }

        return context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true, Protocol: var protocol }
            && string.Equals(protocol, "websocket", StringComparison.OrdinalIgnoreCase)
            ? WebSocketHandshake.ExtendedConnect
            : WebSocketHandshake.None;
    }

    /// <summary>
    /// Makes the upstream request an HTTP/1.1 upgrade. Upgrade and Connection are hop-by-hop, so they were
    /// not copied: a tunnel asks for them anew. An HTTP/2 handshake has no Sec-WebSocket-Key (RFC 8441
    /// §5), which an HTTP/1.1 upstream requires: the proxy makes one.
    /// </summary>
    public static void PrepareUpstreamRequest(HttpRequestMessage message, WebSocketHandshake handshake)
    {
        message.Headers.TryAddWithoutValidation(HeaderNames.Connection, "Upgrade");
        message.Headers.TryAddWithoutValidation(HeaderNames.Upgrade, "websocket");
        if (handshake == WebSocketHandshake.ExtendedConnect)
        {
            message.Method = HttpMethod.Get;
            message.Headers.Remove(SecWebSocketKey);
            message.Headers.TryAddWithoutValidation(SecWebSocketKey, Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        }
    }

    public static async Task RunAsync(HttpContext context, HttpResponseMessage upstream, WebSocketHandshake handshake, UpstreamServer server,
        ILogger logger, CancellationToken cancellationToken)
    {
        Stream upstreamStream;
        Stream clientStream;
        try
        {
            (upstreamStream, clientStream) = await OpenAsync(context, upstream, handshake, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException or OperationCanceledException)
        {
            // A 101 whose headers Kestrel refuses, or a side that went away during the switch: a clean 502
            // while nothing was sent, an aborted connection once the switch was answered.
            if (!context.Response.HasStarted)
            {
                ProxyLog.UpstreamInvalidResponse(logger, server.Group, server.Name, ex);
            }

            await ErrorResponse.Answer(context, ServingError.UpstreamInvalidResponse, ex).ConfigureAwait(false);
            return;
        }

        await using (upstreamStream.ConfigureAwait(false))
        {
            await using (clientStream.ConfigureAwait(false))
            {
                // The tunnel lives as long as the client: ReadTimeout does not apply to an idle WebSocket.
                using var tunnel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                var toUpstream = PumpAsync(clientStream, upstreamStream, tunnel.Token);
                var toClient = PumpAsync(upstreamStream, clientStream, tunnel.Token);
                var first = await Task.WhenAny(toUpstream, toClient).ConfigureAwait(false);
                var closedBy = first == toUpstream ? TunnelSide.Client : TunnelSide.Upstream;

                // One side ended: end the other, whose read would otherwise wait forever.
                await tunnel.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(toUpstream, toClient).ConfigureAwait(false);
                ProxyLog.WebSocketTunnelClosed(logger, server.Group, server.Name, closedBy);
            }
        }
    }

    /// <summary>Answers the client's handshake as the upstream answered it, and returns both byte streams.</summary>
    private static async Task<(Stream Upstream, Stream Client)> OpenAsync(HttpContext context, HttpResponseMessage upstream,
        WebSocketHandshake handshake, CancellationToken cancellationToken)
    {
        var response = context.Response;
        var connection = ProxyHeaders.ConnectionOf(upstream);
        ProxyHeaders.CopyResponseHeaders(upstream.Headers, response.Headers, connection);
        if (handshake == WebSocketHandshake.ExtendedConnect)
        {
            // RFC 8441 §5: an HTTP/2 WebSocket is accepted with 200 and carries no Sec-WebSocket-Accept.
            response.Headers.Remove(SecWebSocketAccept);
        }
        else
        {
            // Kestrel writes 101 and "Connection: Upgrade" itself; the Upgrade header is hop-by-hop, so it is set anew.
            response.Headers.Upgrade = "websocket";
        }

        var upstreamStream = await upstream.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var clientStream = handshake == WebSocketHandshake.ExtendedConnect
            ? await context.Features.Get<IHttpExtendedConnectFeature>()!.AcceptAsync().ConfigureAwait(false)
            : await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync().ConfigureAwait(false);
        return (upstreamStream, clientStream);
    }

    /// <summary>
    /// Copies until the source ends or fails, or the tunnel is cancelled; never throws. There is no
    /// half-close: the first direction to end closes both connections, as nginx ends an upgraded
    /// connection once either side's read reaches its end and what it read was sent on.
    /// </summary>
    private static async Task PumpAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The other direction ended or a side reset: the tunnel is over either way.
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
