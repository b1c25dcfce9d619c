using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Text;

namespace ProductionServing.Proxy;

/// <summary>
/// The connection pool to a group's servers: one <see cref="HttpMessageInvoker"/> on a
/// <see cref="SocketsHttpHandler"/>, built once per group and reused across reloads while the
/// settings it depends on are the same. Forwarded traffic gets no cookies, redirects, decompression,
/// system proxy or trace headers: the client and the upstream see each other's bytes.
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

            // Propagating trace context is the app's choice, not the proxy's: forward what the client sent.
            ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),

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
}
