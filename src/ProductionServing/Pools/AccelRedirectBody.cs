using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Pools;

/// <summary>
/// Stands in for the response body while the app runs, to implement nginx's <c>X-Accel-Redirect</c>:
/// at the app's first body operation (or when it returns) the response headers are checked; with the
/// header, the app's body is discarded and the header removed, so the file it names can be served in
/// its place; without it, everything passes straight through to the real body.
/// </summary>
internal sealed class AccelRedirectBody : PipeWriter, IHttpResponseBodyFeature
{
    public const string HeaderName = "X-Accel-Redirect";

    private readonly HttpContext _context;
    private readonly IHttpResponseBodyFeature _inner;
    private BodyStream? _stream;
    private byte[]? _discard;
    private State _state;

    public AccelRedirectBody(HttpContext context, IHttpResponseBodyFeature inner)
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

    /// <summary>The response body this one stands in for.</summary>
    public IHttpResponseBodyFeature Inner => _inner;

    /// <summary>The path the app handed off to, once decided; null when the app's own response stands.</summary>
    public string? Target { get; private set; }

    public Stream Stream => _stream ??= new BodyStream(this);

    public PipeWriter Writer => this;

    /// <summary>Decides (if the app has not written anything yet) and tells whether the app handed off.</summary>
    public bool IsRedirect() => Decide() == State.Redirect;

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

    private Memory<byte> Discard(int sizeHint) => _discard is { } buffer && buffer.Length >= sizeHint
        ? buffer
        : _discard = new byte[Math.Max(sizeHint, 4096)];

    /// <summary>
    /// <see cref="HttpResponse.Body"/> for the app: the same decision, then the real body stream (so
    /// synchronous writes keep Kestrel's AllowSynchronousIO rules) or nowhere.
    /// </summary>
    private sealed class BodyStream(AccelRedirectBody owner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

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

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
