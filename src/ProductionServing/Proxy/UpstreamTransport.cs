using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;

namespace ProductionServing.Proxy;

/// <summary>
/// The connection pool to a group's servers: one <see cref="HttpMessageInvoker"/> on a
/// <see cref="SocketsHttpHandler"/>, built once per group and reused across reloads while the
/// settings it depends on are the same. Forwarded traffic gets no cookies, redirects, decompression or
/// system proxy: the client and the upstream see each other's bytes, but for the trace context, which is
/// the request's (<see cref="TraceContext"/>).
/// </summary>
internal sealed class UpstreamTransport
{
    public UpstreamTransport(TimeSpan connectTimeout)
    {
        ConnectTimeout = connectTimeout;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = connectTimeout,
            EnableMultipleHttp2Connections = true,

            // When outgoing HTTP tracing is observed, the handler's own Activity (a child of the request's)
            // is the upstream call's span: this writes its traceparent and tracestate, and nothing else.
            ActivityHeadersPropagator = TraceContext.Propagator,

            // A connection opened for a forwarded request is timed for it (nginx's $upstream_connect_time).
            ConnectCallback = ConnectAsync,

            // An idle pooled connection the upstream may already have closed is a reset waiting to
            // happen; nginx's keepalive_timeout default is 60 s, so let ours go well before.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),

            // A response abandoned half-read (the client went away) closes its connection at once
            // instead of being drained for reuse, so the upstream sees the disconnect promptly.
            MaxResponseDrainSize = 0,

            // Kestrel takes UTF-8 request header values; without this the handler refuses to send any
            // non-ASCII value, and one such header from a client would fail the attempt on every server.
            RequestHeaderEncodingSelector = static (_, _) => Encoding.UTF8,
        };
        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    /// <summary>The connect timeout the pool was built with.</summary>
    public TimeSpan ConnectTimeout { get; }

    /// <summary>Sends requests over the pool. Never disposed while a snapshot may still use it.</summary>
    public HttpMessageInvoker Invoker { get; }

    /// <summary>
    /// Opens a connection as SocketsHttpHandler does without a callback (a dual-mode socket with Nagle off;
    /// the handler wraps the failures and applies <c>ConnectTimeout</c> to this as to its own), timing it
    /// for the attempt whose request asked for it. The pool hands a new HTTP/1.1 connection to the oldest
    /// request waiting, which is that one unless it found another connection meanwhile; a reused
    /// connection never comes here, so an attempt that reuses one records no connect time.
    /// </summary>
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var attempt = (context.InitialRequestMessage as UpstreamRequestMessage)?.Attempt;
        var pending = attempt?.Observer.Connecting(attempt);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        if (pending is { } connection)
        {
            attempt!.Observer.Connected(connection);
        }

        return new NetworkStream(socket, ownsSocket: true);
    }
}
