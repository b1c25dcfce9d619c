using System.Net.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace ProductionServing.Proxy;

/// <summary>
/// Sends an upstream response to the client: status, headers, then the body as it arrives, each piece
/// flushed at once (a <c>text/event-stream</c> or chunked response reaches the client live), and the
/// trailers where the client's protocol carries them.
/// </summary>
internal static class ProxyResponse
{

    public static async Task SendAsync(HttpContext context, HttpResponseMessage upstream, ProxyHandler handler, UpstreamServer server,
        CancellationTokenSource timeout, ILogger logger)
    {
        var response = context.Response;
        response.StatusCode = (int)upstream.StatusCode;
        var connection = ProxyHeaders.ConnectionOf(upstream);
        ProxyHeaders.CopyResponseHeaders(upstream.Headers, response.Headers, connection);
        ProxyHeaders.CopyResponseHeaders(upstream.Content.Headers, response.Headers, connection);
        if (upstream.Content.Headers.ContentLength is { } length)
        {
            // Kept as a number: the copy above skips it, because enumerating it would format a string.
            response.ContentLength = length;
        }
        handler.RewriteRedirects(context, server);

        var group = handler.Group;
        var readTimeout = group.Options.ReadTimeout;
        var writer = response.BodyWriter;
        Stream? body = null;
        try
        {
            timeout.CancelAfter(readTimeout);
            body = upstream.Content.ReadAsStream(timeout.Token); // SocketsHttpHandler's content is a stream already: no Task

            while (true)
            {
                timeout.CancelAfter(readTimeout);
                // The pipe's own block (4 KiB from Kestrel's pool): a larger size hint makes the pipe rent
                // from ArrayPool<byte>.Shared, whose per-core stacks run dry with many requests in flight
                // and then allocate (measured: 2.7 KB per forwarded request at 64 connections).
                var memory = writer.GetMemory();
                var read = await body.ReadAsync(memory, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                var flush = await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    // The client is gone: stop reading, and the disposal of the response closes the upstream connection.
                    ProxyLog.ClientAborted(logger, group.Name, server.Name);
                    return;
                }
            }
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            ProxyLog.ClientAborted(logger, group.Name, server.Name);
            return;
        }
        catch (Exception ex)
        {
            var reason = timeout.IsCancellationRequested ? $"no data within ReadTimeout {readTimeout}" : ex.InnerException?.Message ?? ex.Message;
            ProxyLog.UpstreamResponseAborted(logger, group.Name, server.Name, reason, ex);
            context.Abort();
            return;
        }
        finally
        {
            if (body is not null)
            {
                await body.DisposeAsync().ConfigureAwait(false);
            }
        }

        CopyTrailers(context, upstream);
    }

    private static void CopyTrailers(HttpContext context, HttpResponseMessage upstream)
    {
        if (!context.Response.SupportsTrailers() || upstream.TrailingHeaders is not { NonValidated.Count: > 0 } trailers)
        {
            return;
        }

        var feature = context.Features.Get<IHttpResponseTrailersFeature>()!;
        ProxyHeaders.CopyResponseHeaders(trailers, feature.Trailers, default);
    }
}
