using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Pools;

/// <summary>
/// Stands in for the response body while the app runs, to implement nginx's <c>X-Accel-Redirect</c>:
/// at the app's first body operation (or when it returns) the response headers are checked; with the
/// header, the app's body is discarded and the header removed, so the file it names can be served in
/// its place; without it, everything passes straight through to the real body.
/// </summary>
/// <remarks>
/// Every app response is watched, so the watch must cost next to nothing. Over HTTP/1.x a connection
/// runs one request at a time, so each connection keeps one watch (in its
/// <see cref="IConnectionItemsFeature"/>) and its next requests reuse it: no allocation per request. An
/// app that keeps <c>Response.Body</c> past its request and writes to it later reaches the connection's
/// next response, exactly as with Kestrel's own response stream, which is reused the same way. HTTP/2
/// streams run concurrently on one connection and get a watch each.
/// </remarks>
internal sealed class AccelRedirectBody : PipeWriter, IHttpResponseBodyFeature
{
    public const string HeaderName = "X-Accel-Redirect";

    private const int DiscardSize = 4096;

    private static readonly object ConnectionKey = new();

    private HttpContext _context;
    private IHttpResponseBodyFeature _inner;
    private BodyStream? _stream;
    private byte[]? _discard;
    private State _state;
    private volatile bool _withdrawn;
    private ServingRequest _held;

    private AccelRedirectBody(HttpContext context, IHttpResponseBodyFeature inner)
    {
        _context = context;
        _inner = inner;
    }

    private enum State
    {
        Undecided,
        PassThrough,
        Redirect,
    }

    /// <summary>A watch over <paramref name="inner"/>, the response body of <paramref name="context"/>: the connection's own over HTTP/1.x, else a new one.</summary>
    public static AccelRedirectBody For(HttpContext context, IHttpResponseBodyFeature inner)
    {
        var protocol = context.Request.Protocol;
        if ((HttpProtocol.IsHttp11(protocol) || HttpProtocol.IsHttp10(protocol))
            && context.Features.Get<IConnectionItemsFeature>()?.Items is { } items)
        {
            if (items.TryGetValue(ConnectionKey, out var kept) && kept is AccelRedirectBody reused)
            {
                reused._context = context;
                reused._inner = inner;
                reused._state = State.Undecided;
                reused._withdrawn = false;
                reused.Target = null;
                return reused;
            }

            var watch = new AccelRedirectBody(context, inner);
            items[ConnectionKey] = watch;
            return watch;
        }

        return new AccelRedirectBody(context, inner);
    }

    /// <summary>The response body this one stands in for.</summary>
    public IHttpResponseBodyFeature Inner => _inner;

    /// <summary>Holds <paramref name="request"/> until its app ends, for what follows it (one request at a time per watch).</summary>
    public void Hold(in ServingRequest request) => _held = request;

    /// <summary>The held request; the watch lets go of it (it must not keep a finished request's configuration alive on an idle connection).</summary>
    public ServingRequest Release()
    {
        var request = _held;
        _held = default;
        return request;
    }

    /// <summary>The path the app handed off to, once decided; null when the app's own response stands.</summary>
    public string? Target { get; private set; }

    public Stream Stream => _stream ??= new BodyStream(this);

    public PipeWriter Writer => this;

    /// <summary>Decides (if the app has not written anything yet) and tells whether the app handed off.</summary>
    public bool IsRedirect() => !_withdrawn && Decide() == State.Redirect;

    /// <summary>
    /// The pool answered for the app (its <c>RequestTimeout</c>): that answer stands, whatever the app
    /// had set, and the request is not handed off.
    /// </summary>
    public void Withdraw() => _withdrawn = true;

    public void DisableBuffering() => _inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) =>
        Decide() == State.PassThrough ? _inner.StartAsync(cancellationToken) : Task.CompletedTask;

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        Decide() == State.PassThrough ? _inner.SendFileAsync(path, offset, count, cancellationToken) : Task.CompletedTask;

    public Task CompleteAsync() => Decide() == State.PassThrough ? _inner.CompleteAsync() : Task.CompletedTask;

    public override void Advance(int bytes)
    {
        if (Decide() == State.PassThrough)
        {
            _inner.Writer.Advance(bytes);
        }
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) =>
        Decide() == State.PassThrough ? _inner.Writer.GetMemory(sizeHint) : Discard(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) =>
        Decide() == State.PassThrough ? _inner.Writer.GetSpan(sizeHint) : Discard(sizeHint).Span;

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        Decide() == State.PassThrough ? _inner.Writer.FlushAsync(cancellationToken) : default;

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
        Decide() == State.PassThrough ? _inner.Writer.WriteAsync(source, cancellationToken) : default;

    /// <summary>System.Text.Json's PipeWriter serializer needs these to decide when to flush.</summary>
    public override bool CanGetUnflushedBytes => Decide() != State.PassThrough || _inner.Writer.CanGetUnflushedBytes;

    public override long UnflushedBytes => Decide() == State.PassThrough ? _inner.Writer.UnflushedBytes : 0;

    public override void CancelPendingFlush()
    {
        if (_state == State.PassThrough)
        {
            _inner.Writer.CancelPendingFlush();
        }
    }

    public override void Complete(Exception? exception = null)
    {
        if (Decide() == State.PassThrough)
        {
            _inner.Writer.Complete(exception);
        }
    }

    /// <summary>
    /// Removes the header if the app set it only after its response had started (too late to hand
    /// off): whatever happens, it never reaches the client.
    /// </summary>
    public static Task RemoveLateHeader(object response)
    {
        ((HttpResponse)response).Headers.Remove(HeaderName);
        return Task.CompletedTask;
    }

    private State Decide()
    {
        if (_state != State.Undecided)
        {
            return _state;
        }

        var headers = _context.Response.Headers;
        var target = headers[HeaderName];
        if (target.Count == 0 || string.IsNullOrEmpty(target[0]))
        {
            return _state = State.PassThrough;
        }

        // The header never reaches the client (nginx strips it too).
        Target = target[0];
        headers.Remove(HeaderName);
        return _state = State.Redirect;
    }

    /// <summary>
    /// Where a handed-off app's writes go. The buffer lives as long as the connection's watch, so only
    /// a small one is kept; a larger size asked for gets a buffer for that write alone.
    /// </summary>
    private Memory<byte> Discard(int sizeHint)
    {
        if (sizeHint > DiscardSize)
        {
            return new byte[sizeHint];
        }

        return _discard ??= new byte[DiscardSize];
    }

    /// <summary>
    /// <see cref="HttpResponse.Body"/> for the app: the same decision, then the real body stream (so
    /// synchronous writes keep Kestrel's AllowSynchronousIO rules) or nowhere.
    /// </summary>
    private sealed class BodyStream(AccelRedirectBody owner) : WriteOnlyStream
    {
        public override void Flush()
        {
            if (owner.Decide() == State.PassThrough)
            {
                owner._inner.Stream.Flush();
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) =>
            owner.Decide() == State.PassThrough ? owner._inner.Stream.FlushAsync(cancellationToken) : Task.CompletedTask;

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (owner.Decide() == State.PassThrough)
            {
                owner._inner.Stream.Write(buffer, offset, count);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            owner.Decide() == State.PassThrough ? owner._inner.Stream.WriteAsync(buffer, offset, count, cancellationToken) : Task.CompletedTask;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            owner.Decide() == State.PassThrough ? owner._inner.Stream.WriteAsync(buffer, cancellationToken) : default;
    }
}
