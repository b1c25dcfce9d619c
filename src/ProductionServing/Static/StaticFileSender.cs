using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Win32.SafeHandles;
using ProductionServing.Diagnostics;
using ProductionServing.Directives;

namespace ProductionServing.Static;

/// <summary>
/// Answers a GET or HEAD for one file: content negotiation of precompressed variants, validators and
/// preconditions (RFC 9110 §13), ranges (§14), then the bytes from memory or streamed from disk.
/// </summary>
internal sealed class StaticFileSender
{
    /// <summary>
    /// The most bytes read from disk per write, so a huge file never grows memory. Reads are
    /// asynchronous: larger synchronous reads kept a request's thread through each read while others
    /// waited, and measured slower with a worse p99 (docs/performance.md, "Static files").
    /// </summary>
    private const int ChunkSize = 64 * 1024;

    private static readonly StringValues AcceptRangesBytes = "bytes";
    private static readonly StringValues VaryAcceptEncoding = "Accept-Encoding";

    private readonly FileLookup _files;
    private readonly StringValues _cacheControl;
    private readonly bool _cacheControlForbidsTransform;
    private readonly int _maxRanges;
    private readonly ILogger _logger;
    private readonly ServingMetrics _metrics;
    private readonly string? _location;

    /// <param name="files">The location's files: an entry found stale is evicted there.</param>
    /// <param name="cacheControl">The location's <c>CacheControl</c>, if any.</param>
    /// <param name="maxRanges">The location's <c>MaxRanges</c>.</param>
    /// <param name="logger">For transfer problems.</param>
    /// <param name="metrics">Cache hits and bytes sent.</param>
    /// <param name="location">The location's <c>Match</c>, their tag (null for the configuration-free web root).</param>
    public StaticFileSender(FileLookup files, string? cacheControl, int maxRanges, ILogger logger, ServingMetrics metrics, string? location)
    {
        _files = files;
        _cacheControl = cacheControl;
        _cacheControlForbidsTransform = CompressPolicy.ForbidsTransform(cacheControl);
        _maxRanges = maxRanges;
        _logger = logger;
        _metrics = metrics;
        _location = location;
    }

    /// <param name="context">The request.</param>
    /// <param name="path">The request path <paramref name="file"/> was found under (its cache key).</param>
    /// <param name="file">The file, current as of this request.</param>
    public Task SendAsync(HttpContext context, string path, FileEntry file)
    {
        var request = context.Request;
        var response = context.Response;
        var entry = file;
        if (file.HasVariants)
        {
            var coding = AcceptEncoding.Choose(request.Headers.AcceptEncoding, file.Brotli is not null, file.Gzip is not null);
            entry = coding switch
            {
                ContentCoding.Brotli => file.Brotli!,
                ContentCoding.Gzip => file.Gzip!,
                _ => file,
            };

            if (entry.IsCompressedCopy)
            {
                // A range is cut from the identity bytes, never from a compressed copy (nginx-tests gzip.t: a gzipped
                // response drops Accept-Ranges), and no-transform in the location's or a handing-off app's
                // Cache-Control forbids the copy (RFC 9110 §7.7).
                if ((request.Headers.Range.Count != 0 && !HttpMethods.IsHead(request.Method))
                    || (response.Headers.CacheControl is { Count: > 0 } appCacheControl ? CompressPolicy.ForbidsTransform(appCacheControl) : _cacheControlForbidsTransform))
                {
                    entry = file;
                }
            }
            else if (entry != file && !entry.IsCurrent(_files.Watch))
            {
                // The sidecar changed or went away: send the file itself, and reload both next time.
                _files.Evict(path, file);
                entry = file;
            }
        }

        var headers = response.Headers;
        headers.ETag = entry.ETag;
        headers.LastModified = entry.LastModifiedHeader;

        // An app handing off with X-Accel-Redirect may have set these already (Cache-Control: private
        // for an authorized download): theirs stands, and Vary is added to.
        if (_cacheControl.Count != 0 && headers.CacheControl.Count == 0)
        {
            headers.CacheControl = _cacheControl;
        }

        if (file.HasVariants)
        {
            headers.Vary = headers.Vary.Count == 0 ? VaryAcceptEncoding : StringValues.Concat(headers.Vary, VaryAcceptEncoding);
        }

        switch (Preconditions.Evaluate(request, entry.ETagText, entry.LastModified))
        {
            case PreconditionResult.NotModified:
                _metrics.StaticFileSent(_location, entry.Bytes is not null, 0);
                response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            case PreconditionResult.PreconditionFailed:
                _metrics.StaticFileSent(_location, entry.Bytes is not null, 0);
                response.StatusCode = StatusCodes.Status412PreconditionFailed;
                return Task.CompletedTask;
        }

        // A compressed copy has no ranges of its own (a Range request gets the file's), so it does not offer
        // them: nginx's gzip filter clears Accept-Ranges too (nginx-tests gzip.t, "cleared accept-ranges").
        if (!entry.IsCompressedCopy)
        {
            headers.AcceptRanges = AcceptRangesBytes;
        }

        // Range applies to GET only (RFC 9110 §14.2); HEAD gets the headers of the full response.
        var isHead = HttpMethods.IsHead(request.Method);
        var range = isHead ? StringValues.Empty : request.Headers.Range;
        if (range.Count != 0 && Preconditions.IfRangeAllows(request, entry.ETagText, entry.LastModified))
        {
            switch (RangeRequest.Parse(range.ToString(), entry.Length, _maxRanges, out var ranges))
            {
                case RangeOutcome.Unsatisfiable:
                    _metrics.StaticFileSent(_location, entry.Bytes is not null, 0);
                    response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{entry.Length}");
                    response.ContentLength = 0;
                    return Task.CompletedTask;

                // A multipart body cannot carry one Content-Encoding for parts cut from encoded bytes:
                // several ranges of a precompressed variant get the whole variant instead.
                case RangeOutcome.Partial when ranges.Length == 1 || entry.ContentEncoding.Count == 0:
                    SetContentHeaders(headers, entry);
                    _metrics.StaticFileSent(_location, entry.Bytes is not null, ContentBytes(ranges));
                    return SendRangesAsync(context, path, entry, ranges);
            }
        }

        SetContentHeaders(headers, entry);
        response.ContentLength = entry.Length;
        _metrics.StaticFileSent(_location, entry.Bytes is not null, isHead ? 0 : entry.Length);
        if (isHead)
        {
            return Task.CompletedTask;
        }

        return entry.Bytes is { } bytes
            ? WriteAsync(response, bytes, context.RequestAborted)
            : StreamFileAsync(context, path, entry, new ByteRange(0, entry.Length));
    }

    /// <summary>The file bytes of a range response (a multipart body's framing is not file content).</summary>
    private static long ContentBytes(ByteRange[] ranges)
    {
        long total = 0;
        foreach (var range in ranges)
        {
            total += range.Length;
        }

        return total;
    }

    private static void SetContentHeaders(IHeaderDictionary headers, FileEntry entry)
    {
        headers.ContentType = entry.ContentType;
        if (entry.ContentEncoding.Count != 0)
        {
            headers.ContentEncoding = entry.ContentEncoding;
        }
    }

    /// <summary>Writes cached bytes; a write the pipe takes at once (the usual case) costs no Task.</summary>
    private static Task WriteAsync(HttpResponse response, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var write = response.BodyWriter.WriteAsync(bytes, cancellationToken);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }

    private Task SendRangesAsync(HttpContext context, string path, FileEntry entry, ByteRange[] ranges)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status206PartialContent;
        if (ranges.Length == 1)
        {
            var range = ranges[0];
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {range.Start}-{range.End}/{entry.Length}");
            response.ContentLength = range.Length;
            return WriteRangeAsync(context, path, entry, range, context.RequestAborted);
        }

        // multipart/byteranges (RFC 9110 §14.6): each part carries the file's type and its own range.
        var boundary = MultipartByteRanges.CreateBoundary();
        var partType = entry.ContentType.ToString();
        response.ContentType = MultipartByteRanges.ContentType(boundary);
        response.ContentLength = MultipartByteRanges.ComputeLength(boundary, partType, ranges, entry.Length);

        return MultipartByteRanges.WriteAsync(response.Body, boundary, partType, ranges, entry.Length,
            (range, cancellationToken) => WriteRangeAsync(context, path, entry, range, cancellationToken), context.RequestAborted);
    }

    private Task WriteRangeAsync(HttpContext context, string path, FileEntry entry, ByteRange range, CancellationToken cancellationToken) =>
        entry.Bytes is { } bytes
            ? WriteAsync(context.Response, bytes.AsMemory(checked((int)range.Start), checked((int)range.Length)), cancellationToken)
            : StreamFileAsync(context, path, entry, range);

    /// <summary>
    /// Streams part of a file from disk straight into the response pipe's buffers, one bounded chunk at
    /// a time. The file is opened here and checked against the entry, so the bytes sent are the version
    /// the headers describe; a file truncated or rewritten while it is sent aborts the connection, never
    /// ending a response short, or made of two versions, while its Content-Length says it is whole.
    /// </summary>
    private async Task StreamFileAsync(HttpContext context, string path, FileEntry entry, ByteRange range)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(entry.PhysicalPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            StaticLog.FileVanished(_logger, entry.PhysicalPath, ex);
            _files.Evict(path, entry);
            ErrorResponse.Abort(context, ServingError.FileChanged, ex);
            return;
        }

        using (handle)
        {
            if (!entry.IsCurrent(handle))
            {
                // Changed between this request's stat and its open: the headers describe the old
                // version, so abort, and forget the entry so the next request loads the new one.
                StaticLog.FileVanished(_logger, entry.PhysicalPath, null);
                _files.Evict(path, entry);
                ErrorResponse.Abort(context, ServingError.FileChanged);
                return;
            }

            var writer = context.Response.BodyWriter;
            var cancellationToken = context.RequestAborted;
            var position = range.Start;
            var remaining = range.Length;
            while (remaining > 0)
            {
                var memory = writer.GetMemory((int)Math.Min(remaining, ChunkSize));
                var count = (int)Math.Min(memory.Length, remaining);

                var read = await RandomAccess.ReadAsync(handle, memory[..count], position, cancellationToken);
                if (read == 0)
                {
                    StaticLog.FileTruncated(_logger, entry.PhysicalPath, range.End + 1, position);
                    ErrorResponse.Abort(context, ServingError.FileChanged);
                    return;
                }

                if (read == remaining && !entry.IsUnwritten(handle))
                {
                    // Written in place while it was sent (cp over it, a rewrite of the same length): the
                    // bytes sent may be a mix of both versions. Checked before the last bytes go out, so
                    // the client never sees such a body end as if complete (a write after this check no
                    // longer changes what is sent). One statx per response, not per read. A file renamed
                    // over this one or deleted leaves the open one as it was: it is sent whole.
                    StaticLog.FileRewritten(_logger, entry.PhysicalPath);
                    ErrorResponse.Abort(context, ServingError.FileChanged);
                    return;
                }

                writer.Advance(read);
                position += read;
                remaining -= read;
                var flush = await writer.FlushAsync(cancellationToken);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    // The client is gone. Abort rather than return: a response that ends short of its
                    // Content-Length before Kestrel has seen the connection close is logged as an app error.
                    context.Abort();
                    return;
                }
            }
        }
    }
}
