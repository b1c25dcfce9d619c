using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ProductionServing.Static;

/// <summary>
/// Frames several ranges of one representation as a <c>multipart/byteranges</c> body (RFC 9110 §14.6).
/// </summary>
/// <remarks>
/// <para>
/// Each part is <c>CRLF "--" boundary CRLF</c>, its <c>Content-Type</c> and <c>Content-Range</c> lines, a blank line and
/// the range's bytes; the body ends with <c>CRLF "--" boundary "--" CRLF</c>. The leading CRLF of the first part is
/// an empty preamble, which RFC 2046 §5.1.1 allows and nginx also sends; it lets every part share one layout.
/// </para>
/// <para>
/// <see cref="ComputeLength"/> and <see cref="WriteAsync"/> encode the same text with the same encoder and the same
/// number formatter, so the precomputed <c>Content-Length</c> matches the body byte for byte and the response
/// need not be chunked.
/// </para>
/// </remarks>
internal static class MultipartByteRanges
{
    private const string BoundaryAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>24 characters of a 62-letter alphabet, about 143 bits: a file cannot be crafted to contain the boundary.</summary>
    private const int BoundaryLength = 24;

    private const string DelimiterStart = "\r\n--";
    private const string ContentTypeLine = "\r\nContent-Type: ";
    private const string ContentRangeLine = "\r\nContent-Range: bytes ";
    private const string HeadersEnd = "\r\n\r\n";
    private const string CloseDelimiterEnd = "--\r\n";

    /// <summary>Three longs of up to 20 characters each, '-', '/' and the blank line.</summary>
    private const int MaxPartNumbersLength = (3 * 20) + 2 + 4;

    /// <summary>A random boundary for one response.</summary>
    /// <returns>24 characters of <c>[0-9a-zA-Z]</c>, from a cryptographic generator so a served file cannot predict it (RFC 2046 §5.1.1).</returns>
    public static string CreateBoundary() => RandomNumberGenerator.GetString(BoundaryAlphabet, BoundaryLength);

    /// <summary>The response's <c>Content-Type</c> for a body framed with <paramref name="boundary"/>.</summary>
    /// <param name="boundary">The boundary from <see cref="CreateBoundary"/>; it needs no quoting.</param>
    /// <returns><c>multipart/byteranges; boundary=</c> followed by <paramref name="boundary"/>.</returns>
    public static string ContentType(string boundary) => "multipart/byteranges; boundary=" + boundary;

    /// <summary>Exact body length for these parts, so the response can carry <c>Content-Length</c>.</summary>
    /// <param name="boundary">The boundary the body is framed with.</param>
    /// <param name="partContentType">The representation's content type, repeated in each part.</param>
    /// <param name="ranges">The ranges, in the order they will be written.</param>
    /// <param name="totalLength">The representation's full length in bytes, written after the '/' of each <c>Content-Range</c>.</param>
    /// <returns>The number of bytes <see cref="WriteAsync"/> writes for the same arguments, range bytes included.</returns>
    public static long ComputeLength(string boundary, string partContentType, ReadOnlySpan<ByteRange> ranges, long totalLength)
    {
        ArgumentNullException.ThrowIfNull(boundary);
        ArgumentNullException.ThrowIfNull(partContentType);

        var prefix = PrefixLength(boundary, partContentType);
        var total = FormattedLength(totalLength);
        long length = 0;
        foreach (var range in ranges)
        {
            length += prefix + FormattedLength(range.Start) + 1 + FormattedLength(range.End) + 1 + total + HeadersEnd.Length + range.Length;
        }

        return length + DelimiterStart.Length + Encoding.UTF8.GetByteCount(boundary) + CloseDelimiterEnd.Length;
    }

    /// <summary>
    /// Writes each part: <c>"\r\n--{boundary}\r\nContent-Type: {type}\r\nContent-Range: bytes {start}-{end}/{total}\r\n\r\n"</c>
    /// then the range's bytes (via <paramref name="writeRange"/>), then <c>"\r\n--{boundary}--\r\n"</c>.
    /// </summary>
    /// <param name="body">The response body the framing is written to.</param>
    /// <param name="boundary">The boundary named in the response's <see cref="ContentType"/>.</param>
    /// <param name="partContentType">The representation's content type, repeated in each part.</param>
    /// <param name="ranges">The ranges to send, in order.</param>
    /// <param name="totalLength">The representation's full length in bytes.</param>
    /// <param name="writeRange">Writes one range's bytes to the same <paramref name="body"/> (e.g. through <c>SendFileAsync</c>).</param>
    /// <param name="cancellationToken">Usually <c>HttpContext.RequestAborted</c>.</param>
    /// <returns>A task that completes when the closing delimiter has been written.</returns>
    public static Task WriteAsync(Stream body, string boundary, string partContentType, ByteRange[] ranges, long totalLength,
        Func<ByteRange, CancellationToken, Task> writeRange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(boundary);
        ArgumentNullException.ThrowIfNull(partContentType);
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(writeRange);
        return WriteCoreAsync(body, boundary, partContentType, ranges, totalLength, writeRange, cancellationToken);
    }

    private static async Task WriteCoreAsync(Stream body, string boundary, string partContentType, ByteRange[] ranges, long totalLength,
        Func<ByteRange, CancellationToken, Task> writeRange, CancellationToken cancellationToken)
    {
        // The part prefix is the same for every part: encode it once and append each part's numbers after it.
        var prefixLength = PrefixLength(boundary, partContentType);
        var buffer = ArrayPool<byte>.Shared.Rent(prefixLength + MaxPartNumbersLength);
        try
        {
            WritePrefix(buffer, boundary, partContentType);
            foreach (var range in ranges)
            {
                var headerLength = prefixLength + WritePartNumbers(buffer.AsSpan(prefixLength), range, totalLength);
                await body.WriteAsync(buffer.AsMemory(0, headerLength), cancellationToken).ConfigureAwait(false);
                await writeRange(range, cancellationToken).ConfigureAwait(false);
            }

            // The close delimiter is shorter than the prefix, which starts with the same "\r\n--{boundary}".
            var closeLength = DelimiterStart.Length + Encoding.UTF8.GetByteCount(boundary);
            var closeEnd = closeLength + Encoding.UTF8.GetBytes(CloseDelimiterEnd, buffer.AsSpan(closeLength));
            await body.WriteAsync(buffer.AsMemory(0, closeEnd), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Bytes of <c>"\r\n--{boundary}\r\nContent-Type: {type}\r\nContent-Range: bytes "</c>.</summary>
    private static int PrefixLength(string boundary, string partContentType) =>
        DelimiterStart.Length + Encoding.UTF8.GetByteCount(boundary) + ContentTypeLine.Length
        + Encoding.UTF8.GetByteCount(partContentType) + ContentRangeLine.Length;

    private static void WritePrefix(Span<byte> destination, string boundary, string partContentType)
    {
        var written = Encoding.UTF8.GetBytes(DelimiterStart, destination);
        written += Encoding.UTF8.GetBytes(boundary, destination[written..]);
        written += Encoding.UTF8.GetBytes(ContentTypeLine, destination[written..]);
        written += Encoding.UTF8.GetBytes(partContentType, destination[written..]);
        Encoding.UTF8.GetBytes(ContentRangeLine, destination[written..]);
    }

    /// <summary>Writes <c>{start}-{end}/{total}\r\n\r\n</c>; returns its length.</summary>
    private static int WritePartNumbers(Span<byte> destination, ByteRange range, long totalLength)
    {
        var written = Format(range.Start, destination);
        destination[written++] = (byte)'-';
        written += Format(range.End, destination[written..]);
        destination[written++] = (byte)'/';
        written += Format(totalLength, destination[written..]);
        written += Encoding.UTF8.GetBytes(HeadersEnd, destination[written..]);
        return written;
    }

    private static int Format(long value, Span<byte> destination)
    {
        value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture);
        return written;
    }

    private static int FormattedLength(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        return Format(value, digits);
    }
}
