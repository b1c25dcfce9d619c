using System.IO.Compression;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using ProductionServing.Static;

namespace ProductionServing.Directives;

/// <summary>
/// <c>Compress</c> for the responses that flow (App and Proxy locations, and any handler but Static, which
/// compresses its cached files once): stands in for the response body while the handler runs, decides at the
/// response's first body operation from its status and headers, and then either passes everything through or
/// compresses it as it comes, each flush flushing the encoder, so server-sent events still arrive one by one.
/// </summary>
/// <remarks>
/// <para>
/// Never compressed (docs/directives.md, "Compress, in detail", after nginx's gzip filter): a status below 200, 204, 206 and
/// 304; a response with <c>Content-Encoding</c> or <c>Content-Range</c>; <c>Cache-Control: no-transform</c>
/// (RFC 9110 §7.7); a <c>Content-Length</c> below <c>MinLength</c>; a type not listed. A response that could
/// be compressed gets <c>Vary: Accept-Encoding</c> whether or not this client takes a coding, so a cache
/// never hands one client's coding to another (RFC 9110 §12.5.5). A compressed one loses
/// <c>Content-Length</c> and <c>Accept-Ranges</c> (nginx-tests gzip.t, "cleared headers from proxy"), and its
/// ETag becomes weak with the coding added (<c>W/"tag-br"</c>): the encoded bytes are not the app's, and each
/// coding is its own representation (RFC 9110 §8.8.1, §8.8.3). A HEAD gets the headers its GET would get.
/// </para>
/// <para>
/// The encoders run at <see cref="CompressionLevel.Fastest"/> (Brotli quality 1, zlib level 1), the level
/// ASP.NET Core's ResponseCompression defaults to: this costs CPU on every response, unlike a static file's
/// copy, which is made once at a higher level (<see cref="CompressedCopy"/>).
/// </para>
/// <para>
/// An internal redirect leaves the decision to the location it leads to (<see cref="Withdraw"/>): an app that
/// hands off with <c>X-Accel-Redirect</c> wrote nothing through this body, which is then taken off.
/// </para>
/// </remarks>
internal sealed class CompressingResponseBody : PipeWriter, IHttpResponseBodyFeature
{
    private static readonly StringValues Brotli = "br";
    private static readonly StringValues Gzip = "gzip";
    private static readonly StringValues VaryAcceptEncoding = "Accept-Encoding";

    /// <summary>What the pipe is completed with when the handler failed (nothing reads it).</summary>
    private static readonly OperationCanceledException Abandoned = new("The handler failed; the compressed response is abandoned.");

    private readonly HttpContext _context;
    private readonly IHttpResponseBodyFeature _inner;
    private readonly CompressPolicy _policy;
    private State _state;
    private bool _finished;
    private Stream? _encoder;
    private PipeWriter? _pipe;
    private BodyStream? _stream;

    private CompressingResponseBody(HttpContext context, IHttpResponseBodyFeature inner, CompressPolicy policy)
    {
        _context = context;
        _inner = inner;
        _policy = policy;
    }

    private enum State
    {
        Undecided,
        PassThrough,
        Compressing,
        Withdrawn,
    }

    public Stream Stream => _stream ??= new BodyStream(this);

    public PipeWriter Writer => this;

    /// <summary>The encoder's pipe: writes through the pipe are buffered and reach the encoder at each flush.</summary>
    private PipeWriter Pipe => _pipe ??= PipeWriter.Create(_encoder!, new StreamPipeWriterOptions(leaveOpen: true));

    /// <summary>
    /// Runs <paramref name="request"/>'s handler with its response body compressed by <paramref name="policy"/>,
    /// then ends the encoded stream and puts the server's body back.
    /// </summary>
    /// <param name="request">The request, dispatched to a location that is not Static.</param>
    /// <param name="policy">The location's <c>Compress</c>.</param>
    /// <returns>The task of the response.</returns>
    public static async Task ServeAsync(ServingRequest request, CompressPolicy policy)
    {
        var features = request.Context.Features;
        var inner = features.Get<IHttpResponseBodyFeature>()!;
        var body = new CompressingResponseBody(request.Context, inner, policy);
        features.Set<IHttpResponseBodyFeature>(body);
        try
        {
            await request.Location.Handler.HandleAsync(request).ConfigureAwait(false);
            await body.FinishAsync().ConfigureAwait(false);
        }
        catch
        {
            await body.AbandonAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (features.Get<IHttpResponseBodyFeature>() == body)
            {
                features.Set(inner);
            }
        }
    }

    /// <summary>
    /// An internal redirect: the location it leads to decides whether its response is compressed, so a body
    /// that nothing was written through yet is taken off (and one already in use stays, as the response has).
    /// </summary>
    public static void Withdraw(HttpContext context)
    {
        if (context.Features.Get<IHttpResponseBodyFeature>() is CompressingResponseBody { _state: State.Undecided } body)
        {
            body._state = State.Withdrawn;
            context.Features.Set(body._inner);
        }
    }

    public void DisableBuffering() => _inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        Decide();
        return _inner.StartAsync(cancellationToken);
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        Decide() == State.Compressing
            ? SendFileFallback.SendFileAsync(Stream, path, offset, count, cancellationToken)
            : _inner.SendFileAsync(path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        await FinishAsync().ConfigureAwait(false);
        await _inner.CompleteAsync().ConfigureAwait(false);
    }

    public override void Advance(int bytes)
    {
        if (_state == State.Compressing)
        {
            Pipe.Advance(bytes);
        }
        else
        {
            _inner.Writer.Advance(bytes);
        }
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) =>
        Decide() == State.Compressing ? Pipe.GetMemory(sizeHint) : _inner.Writer.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) =>
        Decide() == State.Compressing ? Pipe.GetSpan(sizeHint) : _inner.Writer.GetSpan(sizeHint);

    /// <summary>Flushes the encoder too (the pipe flushes the stream it writes to): what was written so far reaches the client.</summary>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        Decide() == State.Compressing ? Pipe.FlushAsync(cancellationToken) : _inner.Writer.FlushAsync(cancellationToken);

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
        Decide() == State.Compressing ? Pipe.WriteAsync(source, cancellationToken) : _inner.Writer.WriteAsync(source, cancellationToken);

    /// <summary>
    /// System.Text.Json's PipeWriter serializer (minimal APIs' JSON results) needs these to decide when to flush,
    /// and throws for a writer without them; the encoder's pipe and the server's writer both count.
    /// </summary>
    public override bool CanGetUnflushedBytes =>
        Decide() == State.Compressing ? Pipe.CanGetUnflushedBytes : _inner.Writer.CanGetUnflushedBytes;

    /// <inheritdoc/>
    public override long UnflushedBytes =>
        Decide() == State.Compressing ? Pipe.UnflushedBytes : _inner.Writer.UnflushedBytes;

    public override void CancelPendingFlush()
    {
        if (_state == State.Compressing)
        {
            Pipe.CancelPendingFlush();
        }
        else
        {
            _inner.Writer.CancelPendingFlush();
        }
    }

    /// <summary>
    /// Ends the app's writing; once compressing, the encoded stream is ended by the request's end (<see cref="ServeAsync"/>),
    /// which can write asynchronously.
    /// </summary>
    public override void Complete(Exception? exception = null)
    {
        if (Decide() != State.Compressing)
        {
            _inner.Writer.Complete(exception);
        }
    }

    private State Decide()
    {
        if (_state == State.Undecided)
        {
            _state = State.PassThrough;
            if (Choose() is var coding and not ContentCoding.Identity)
            {
                Encode(coding);
            }
        }

        return _state;
    }

    /// <summary>The coding for the response as it is about to start; adds <c>Vary</c> when the response could have been compressed.</summary>
    private ContentCoding Choose()
    {
        var response = _context.Response;
        var status = response.StatusCode;
        if (response.HasStarted || status < StatusCodes.Status200OK || status is StatusCodes.Status204NoContent
            or StatusCodes.Status206PartialContent or StatusCodes.Status304NotModified)
        {
            return ContentCoding.Identity;
        }

        var headers = response.Headers;
        if (headers.ContentEncoding.Count != 0 || headers.ContentRange.Count != 0 || CompressPolicy.ForbidsTransform(headers.CacheControl)
            || (response.ContentLength is { } length && !_policy.IsLongEnough(length)) || !_policy.Compresses(headers.ContentType))
        {
            return ContentCoding.Identity;
        }

        var vary = headers.Vary;
        if (!ListsAcceptEncoding(vary))
        {
            headers.Vary = vary.Count == 0 ? VaryAcceptEncoding : StringValues.Concat(vary, VaryAcceptEncoding);
        }

        return AcceptEncoding.Choose(_context.Request.Headers.AcceptEncoding, brotliAvailable: true, gzipAvailable: true);
    }

    private void Encode(ContentCoding coding)
    {
        var headers = _context.Response.Headers;
        headers.ContentEncoding = coding == ContentCoding.Brotli ? Brotli : Gzip;
        headers.ContentLength = null;
        headers.AcceptRanges = StringValues.Empty;
        if (headers.ETag.Count != 0)
        {
            headers.ETag = WeakETag(headers.ETag.ToString());
        }

        // A HEAD has no body to encode: its headers are what matter (RFC 9110 §9.3.2), and the server drops
        // anything an app writes for it.
        if (HttpMethods.IsHead(_context.Request.Method))
        {
            return;
        }

        var stream = _inner.Stream;
        _encoder = coding == ContentCoding.Brotli
            ? new BrotliStream(stream, CompressionLevel.Fastest, leaveOpen: true)
            : new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true);
        _state = State.Compressing;
    }

    /// <summary>
    /// The ETag of the encoded response: the handler's, weak (<c>"a1"</c> → <c>W/"a1"</c>), as nginx's gzip
    /// filter makes it. The encoded bytes are not the handler's, so the tag cannot stay strong (RFC 9110 §8.8.1);
    /// kept the same otherwise, a client's <c>If-None-Match: W/"a1"</c> still matches the handler's tag by weak
    /// comparison (§13.1.2), and the app or upstream answers 304. Empty (removed) when it is not an entity-tag.
    /// </summary>
    private static StringValues WeakETag(string etag)
    {
        if (etag.StartsWith("W/", StringComparison.Ordinal))
        {
            return etag;
        }

        if (etag.Length < 2 || etag[0] != '"' || etag[^1] != '"')
        {
            return StringValues.Empty;
        }

        return "W/" + etag;
    }

    private static bool ListsAcceptEncoding(StringValues vary)
    {
        foreach (var value in vary)
        {
            if (value is not null && (value.Contains('*', StringComparison.Ordinal) || value.Contains("Accept-Encoding", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The handler has ended: a HEAD still gets its GET's headers, and an encoded stream gets its last block.
    /// </summary>
    private async Task FinishAsync()
    {
        if (_state == State.Undecided && HttpMethods.IsHead(_context.Request.Method))
        {
            Decide();
        }

        if (_state != State.Compressing || _finished)
        {
            return;
        }

        _finished = true;
        try
        {
            if (_pipe is not null)
            {
                await _pipe.CompleteAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            // Also when the client went away as the pipe flushed: the encoder's native state is freed now, not
            // by its finalizer.
            await _encoder!.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The handler failed: the encoder's native state is freed; the response is aborted by whoever handles the failure.</summary>
    private async Task AbandonAsync()
    {
        if (_state != State.Compressing || _finished)
        {
            return;
        }

        _finished = true;
        try
        {
            // Completed with an error, the pipe returns its buffers without writing what they hold.
            _pipe?.Complete(Abandoned);
            await _encoder!.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            // Its last block could not be written to a response that is failing anyway.
        }
    }

    /// <summary><see cref="HttpResponse.Body"/>: the same decision, then the encoder or the server's body stream.</summary>
    private sealed class BodyStream(CompressingResponseBody owner) : WriteOnlyStream
    {
        public override void Flush()
        {
            if (owner.Decide() == State.Compressing)
            {
                owner._encoder!.Flush();
            }
            else
            {
                owner._inner.Stream.Flush();
            }
        }

        /// <summary>Through the pipe once it is in use, so bytes written both ways stay in order; the pipe's flush flushes the encoder.</summary>
        public override Task FlushAsync(CancellationToken cancellationToken) =>
            owner.Decide() != State.Compressing ? owner._inner.Stream.FlushAsync(cancellationToken)
            : owner._pipe is { } pipe ? pipe.FlushAsync(cancellationToken).AsTask()
            : owner._encoder!.FlushAsync(cancellationToken);

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (owner.Decide() == State.Compressing)
            {
                owner._encoder!.Write(buffer, offset, count);
            }
            else
            {
                owner._inner.Stream.Write(buffer, offset, count);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (owner.Decide() != State.Compressing)
            {
                return owner._inner.Stream.WriteAsync(buffer, cancellationToken);
            }

            if (owner._pipe is { } pipe)
            {
                var write = pipe.WriteAsync(buffer, cancellationToken);
                return write.IsCompletedSuccessfully ? default : new ValueTask(write.AsTask());
            }

            return owner._encoder!.WriteAsync(buffer, cancellationToken);
        }
    }
}
