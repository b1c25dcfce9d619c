using System.Net;
using System.Net.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace ProductionServing.Proxy;

/// <summary>
/// Sends an upstream response to the client: status, headers, then the body as it arrives, each piece
/// flushed at once (a <c>text/event-stream</c> or chunked response reaches the client live), and the
/// trailers where the client's protocol carries them (HTTP/2 and later; Kestrel sends none over HTTP/1.1).
/// </summary>
internal static class ProxyResponse
{
    /// <summary>The read size for large bodies: the buffer size of YARP's StreamCopier and of our static file streaming.</summary>
    private const int LargeRead = 64 * 1024;

    /// <summary>
    /// Sets the status and headers, or answers 502 when the upstream's head cannot be forwarded as it is
    /// (nothing was sent to the client yet, so it gets a clean error instead of a broken response).
    /// Nothing is sent yet: the caller may still add headers, then sends the body with <see cref="SendBodyAsync"/>.
    /// </summary>
    /// <param name="context">The client's request.</param>
    /// <param name="upstream">The upstream's response, headers received.</param>
    /// <param name="group">The group <paramref name="server"/> belongs to.</param>
    /// <param name="server">The server that answered.</param>
    /// <param name="redirects">The location's <c>RewriteRedirects</c>, or null when it is off.</param>
    /// <param name="timeout">The attempt's cancellation: <c>ReadTimeout</c> and the client going away.</param>
    /// <returns>True when the head is set; false when the client was answered 502 instead.</returns>
    public static bool TryStart(HttpContext context, HttpResponseMessage upstream, UpstreamGroup group, UpstreamServer server,
        RedirectRewriter? redirects, CancellationTokenSource timeout)
    {
        // From here ReadTimeout runs only while a read from the upstream waits: a client that is slow to
        // take the body must not pass for an upstream that stalled.
        new UpstreamReadTimer(timeout, group.Settings.ReadTimeout).Stop();

        var response = context.Response;
        Exception? invalid = InvalidHead(upstream);
        if (invalid is null)
        {
            try
            {
                response.StatusCode = (int)upstream.StatusCode;
                var connection = ProxyHeaders.ConnectionOf(upstream);
                ProxyHeaders.CopyResponseHeaders(upstream.Headers, response.Headers, connection);
                ProxyHeaders.CopyResponseHeaders(upstream.Content.Headers, response.Headers, connection);
                if (upstream.Content.Headers.ContentLength is { } length)
                {
                    // Kept as a number: the copy above skips it, because enumerating it would format a string.
                    response.ContentLength = length;
                }

                redirects?.Rewrite(context, server);
                return true;
            }
            catch (InvalidOperationException ex)
            {
                // Kestrel refuses a header value it cannot send (a control or non-ASCII character).
                invalid = ex;
            }
        }

        ProxyLog.UpstreamInvalidResponse(group.Logger, group.Name, server.Name, invalid);

        // nginx counts an invalid header against the server whatever proxy_next_upstream says.
        group.CountFailure(server);
        ErrorResponse.Answer(context, ServingError.UpstreamInvalidResponse, invalid);
        return false;
    }

    /// <summary>Sends the body of a response whose head <see cref="TryStart"/> set, then its trailers.</summary>
    /// <param name="context">The client's request.</param>
    /// <param name="upstream">The upstream's response.</param>
    /// <param name="group">The group <paramref name="server"/> belongs to.</param>
    /// <param name="server">The server that answered.</param>
    /// <param name="timeout">The attempt's cancellation: <c>ReadTimeout</c> and the client going away.</param>
    public static async Task SendBodyAsync(HttpContext context, HttpResponseMessage upstream, UpstreamGroup group, UpstreamServer server,
        CancellationTokenSource timeout)
    {
        var readTimer = new UpstreamReadTimer(timeout, group.Settings.ReadTimeout);
        var logger = group.Logger;
        var writer = context.Response.BodyWriter;
        Stream? body = null;
        try
        {
            // SocketsHttpHandler's content is a stream already: the synchronous call costs no Task.
            body = upstream.Content.ReadAsStream(timeout.Token);
            var sizeHint = 0;
            while (true)
            {
                // Small bodies are read into the pipe's own block (4 KiB from Kestrel's pool): a larger size
                // hint makes the pipe rent from ArrayPool<byte>.Shared, whose per-core stacks run dry with
                // many requests in flight and then allocate. Once a read fills a block the body is large:
                // 64 KiB reads (YARP's StreamCopier buffer) then mean a sixteenth of the reads, flushes and
                // send calls. Both were measured (docs/performance.md, "Upstream forwarding").
                var memory = writer.GetMemory(sizeHint);
                var read = body.ReadAsync(memory, timeout.Token);
                var waiting = !read.IsCompleted;
                if (waiting)
                {
                    readTimer.Restart();
                }

                var count = await read.ConfigureAwait(false);
                if (waiting)
                {
                    readTimer.Stop();
                }

                if (count == 0)
                {
                    break;
                }

                if (count == memory.Length)
                {
                    sizeHint = LargeRead;
                }

                writer.Advance(count);
                var flush = await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    // The client is gone: stop reading, and the disposal of the response closes the upstream
                    // connection. Abort rather than return: a response that ends short of its Content-Length
                    // before Kestrel has seen the connection close is logged as an app error.
                    ProxyLog.ClientAborted(logger, group.Name, server.Name);
                    context.Abort();
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
            if (timeout.IsCancellationRequested)
            {
                ProxyLog.UpstreamResponseTimedOut(logger, group.Name, server.Name, group.Settings.ReadTimeout);
            }
            else
            {
                ProxyLog.UpstreamResponseAborted(logger, group.Name, server.Name, ProxyLog.ErrorOf(ex), ex);
            }

            ErrorResponse.Abort(context, ServingError.UpstreamResponseAborted, ex);
            return;
        }
        finally
        {
            if (body is not null)
            {
                await body.DisposeAsync().ConfigureAwait(false);
            }
        }

        CopyTrailers(context, upstream, group.Name, server.Name, logger);
    }

    /// <summary>Why the upstream's status line and headers must not be forwarded, or null when they may.</summary>
    private static HttpRequestException? InvalidHead(HttpResponseMessage upstream)
    {
        if (upstream.StatusCode == HttpStatusCode.SwitchingProtocols)
        {
            // RFC 9110 §7.8: a server must not switch to a protocol the client did not ask for (a
            // requested WebSocket upgrade never comes here).
            return Invalid("switches protocols, but the request asked for no upgrade");
        }

        if (!upstream.Content.Headers.NonValidated.TryGetValues(HeaderNames.ContentLength, out var lengths))
        {
            return null;
        }

        // RFC 9112 §6.3: a response whose framing is ambiguous is an unrecoverable error, answered 502 by a
        // proxy; nginx (since 1.23) rejects both Content-Length with Transfer-Encoding and a repeated Content-Length.
        // Forwarding either would frame the client's response differently from the body actually sent.
        return upstream.Headers.NonValidated.Contains(HeaderNames.TransferEncoding) ? Invalid("has both Content-Length and Transfer-Encoding")
            : lengths.Count != 1 || upstream.Content.Headers.ContentLength is null ? Invalid("has an invalid or repeated Content-Length")
            : null;

        static HttpRequestException Invalid(string reason) =>
            new(HttpRequestError.InvalidResponse, "The upstream response " + reason + ".");
    }

    private static void CopyTrailers(HttpContext context, HttpResponseMessage upstream, string group, string server, ILogger logger)
    {
        if (!context.Response.SupportsTrailers() || upstream.TrailingHeaders is not { NonValidated.Count: > 0 } trailers)
        {
            return;
        }

        try
        {
            // RFC 9110 §7.6.1: a Connection option names trailer fields as well as header fields.
            ProxyHeaders.CopyResponseHeaders(trailers, context.Features.Get<IHttpResponseTrailersFeature>()!.Trailers, ProxyHeaders.ConnectionOf(upstream));
        }
        catch (InvalidOperationException ex)
        {
            // A trailer Kestrel cannot send; ending the stream without it would look complete (a gRPC
            // client would miss grpc-status), so the response is aborted as any other failure after it started.
            ProxyLog.UpstreamResponseAborted(logger, group, server, HttpRequestError.InvalidResponse, ex);
            ErrorResponse.Abort(context, ServingError.UpstreamResponseAborted, ex);
        }
    }
}
