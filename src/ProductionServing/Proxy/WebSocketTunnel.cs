using System.Net.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace ProductionServing.Proxy;

/// <summary>
/// HTTP/1.1 <c>Upgrade: websocket</c> (RFC 6455 §4): the handshake is forwarded, and when the upstream
/// answers 101 both connections become one byte tunnel until either side closes. The frames, the
/// closing handshake included, pass through untouched; when one side ends its stream the other side's
/// connection is closed too.
/// </summary>
internal static class WebSocketTunnel
{
    private const int BufferSize = 4096;

    /// <summary>The <c>Upgrade</c> value of a WebSocket handshake Kestrel can upgrade; null for any other request.</summary>
    public static string? UpgradeOf(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true })
        {
            return null;
        }

        var upgrade = context.Request.Headers.Upgrade;
        return upgrade.Count == 1 && string.Equals(upgrade.ToString(), "websocket", StringComparison.OrdinalIgnoreCase)
            ? upgrade.ToString()
            : null;
    }

    public static async Task RunAsync(HttpContext context, HttpResponseMessage upstream, UpstreamServer server, ILogger logger, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status101SwitchingProtocols;
        var connection = ProxyHeaders.ConnectionOf(upstream);
        ProxyHeaders.CopyResponseHeaders(upstream.Headers, response.Headers, connection);

        // Kestrel writes "Connection: Upgrade" itself; the Upgrade header is hop-by-hop, so it is set anew.
        response.Headers.Upgrade = "websocket";

        var upstreamStream = await upstream.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (upstreamStream.ConfigureAwait(false))
        {
            var clientStream = await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync().ConfigureAwait(false);
            await using (clientStream.ConfigureAwait(false))
            {
                // The tunnel lives as long as the client: ReadTimeout does not apply to an idle WebSocket.
                using var tunnel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                var toUpstream = PumpAsync(clientStream, upstreamStream, tunnel.Token);
                var toClient = PumpAsync(upstreamStream, clientStream, tunnel.Token);
                var first = await Task.WhenAny(toUpstream, toClient).ConfigureAwait(false);
                var reason = first == toUpstream ? "the client closed" : "the upstream closed";

                // One side ended: end the other, whose read would otherwise wait forever.
                await tunnel.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(toUpstream, toClient).ConfigureAwait(false);
                ProxyLog.WebSocketTunnelClosed(logger, server.Group, server.Name, reason);
            }
        }
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
