using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Diagnostics;

/// <summary>
/// Counts the response body's bytes into <see cref="RequestRecord.BytesSent"/> (nginx's <c>$body_bytes_sent</c>)
/// while passing every call through to the server's body: installed over it at the request's start when the
/// access log is on, taken off at its end. Whatever is stacked above it later (an app location's
/// <c>X-Accel-Redirect</c> watch, a dedicated pool's context-free view, the proxy and static handlers writing
/// <c>Response.BodyWriter</c>) writes through it, so every handler's bytes are counted in one place.
/// </summary>
/// <remarks>
/// Bytes are counted as they are handed to the server, before the network takes them: a response cut
/// short by a client that went away counts what was written, nginx what reached the socket.
/// <see cref="SendFileAsync"/> passes the file on to the server's own (zero-copy where the server has it)
/// and counts its length. Like <see cref="Pools.AccelRedirectBody"/>, each HTTP/1.x connection keeps one
/// (in its <see cref="IConnectionItemsFeature"/>) for its requests, one at a time, so none allocates;
/// HTTP/2 streams run concurrently and get one each.
/// </remarks>
internal sealed class CountingResponseBody : IHttpResponseBodyFeature
{
    private static readonly object ConnectionKey = new();

    private IHttpResponseBodyFeature _inner;
    private RequestRecord? _record;
    private CountingStream? _stream;
    private CountingPipeWriter? _writer;
    private bool _streamBound;
    private bool _writerBound;

    private CountingResponseBody(IHttpResponseBodyFeature inner)
    {
        _inner = inner;
    }

    /// <summary>
    /// The counting stream over the server's. The server's stream and writer are taken on first use in each
    /// request (taking a stream-based body's writer makes one), and the wrappers are the connection's.
    /// </summary>
    public Stream Stream
    {
        get
        {
            var stream = _stream ??= new CountingStream(this);
            if (!_streamBound)
            {
                stream.Inner = _inner.Stream;
                _streamBound = true;
            }

            return stream;
        }
    }

    public System.IO.Pipelines.PipeWriter Writer
    {
        get
        {
            var writer = _writer ??= new CountingPipeWriter(this);
            if (!_writerBound)
            {
                writer.Inner = _inner.Writer;
                _writerBound = true;
            }

            return writer;
        }
    }

    /// <summary>Puts a counting body over <paramref name="context"/>'s response body, counting into <paramref name="record"/>.</summary>
    public static void Install(HttpContext context, RequestRecord record)
    {
        var features = context.Features;
        var inner = features.Get<IHttpResponseBodyFeature>();
        if (inner is null)
        {
            return;
        }

        if (inner is CountingResponseBody counting)
        {
            // A body left in place (a request whose end was never observed): never count through oneself.
            inner = counting._inner;
        }

        var body = For(context, inner);
        body._inner = inner;
        body._record = record;
        body._streamBound = false;
        body._writerBound = false;
        features.Set<IHttpResponseBodyFeature>(body);
    }

    /// <summary>Puts the server's body back, if the counting one is still in place, and stops counting.</summary>
    public static void Remove(HttpContext context)
    {
        var features = context.Features;
        if (features.Get<IHttpResponseBodyFeature>() is CountingResponseBody body)
        {
            features.Set(body._inner);
            body._record = null;
        }
    }

    public void Count(long bytes)
    {
        if (_record is { } record)
        {
            record.BytesSent += bytes;
        }
    }

    public void DisableBuffering() => _inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => _inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        Count(count ?? Math.Max(new FileInfo(path).Length - offset, 0));
        return _inner.SendFileAsync(path, offset, count, cancellationToken);
    }

    public Task CompleteAsync() => _inner.CompleteAsync();

    private static CountingResponseBody For(HttpContext context, IHttpResponseBodyFeature inner)
    {
        var protocol = context.Request.Protocol;
        if ((HttpProtocol.IsHttp11(protocol) || HttpProtocol.IsHttp10(protocol))
            && context.Features.Get<IConnectionItemsFeature>()?.Items is { } items)
        {
            if (items.TryGetValue(ConnectionKey, out var kept) && kept is CountingResponseBody reused)
            {
                return reused;
            }

            var body = new CountingResponseBody(inner);
            items[ConnectionKey] = body;
            return body;
        }

        return new CountingResponseBody(inner);
    }
}
