using System.Buffers;
using System.IO.Compression;

namespace ProductionServing.Static;

/// <summary>
/// Compresses a cached file's bytes once, when the file is loaded, with the framework's encoders: a
/// <c>Compress</c> location then serves the copy from memory like any cached file.
/// </summary>
/// <remarks>
/// The levels are for compress-once, paid by the one request that loads the file: Brotli quality 6 (what
/// ngx_brotli's <c>brotli_comp_level</c> defaults to) and zlib level 6 (zlib's own default, nginx's
/// <c>gzip_comp_level</c> scale). Brotli's qualities 10 and 11 switch to its slow optimal parser, orders of
/// magnitude slower, and would hold that request (and every file of a deployment's first requests) far
/// longer for a few percent less; precompressed sidecars (<c>Precompressed</c>) are where maximum levels belong.
/// </remarks>
internal static class CompressedCopy
{
    /// <summary>Brotli quality for copies made once (0–11).</summary>
    private const int BrotliQuality = 6;

    /// <summary>Brotli window (log2 of its size): the encoder's default, 22.</summary>
    private const int BrotliWindow = 22;

    /// <summary>zlib level for copies made once (0–9).</summary>
    private const int GzipLevel = 6;

    /// <summary>
    /// The Brotli encoding of <paramref name="bytes"/>, or null when it is not smaller (already compressed
    /// data, tiny files): the file itself is then the better response.
    /// </summary>
    public static byte[]? Brotli(byte[] bytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(bytes.Length));
        try
        {
            return BrotliEncoder.TryCompress(bytes, buffer, out var written, BrotliQuality, BrotliWindow) && written < bytes.Length
                ? buffer.AsSpan(0, written).ToArray()
                : null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The gzip encoding of <paramref name="bytes"/> (RFC 1952), or null when it is not smaller.</summary>
    public static byte[]? Gzip(byte[] bytes)
    {
        using var output = new MemoryStream(bytes.Length / 2);
        using (var gzip = new GZipStream(output, new ZLibCompressionOptions { CompressionLevel = GzipLevel }, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.Length < bytes.Length ? output.ToArray() : null;
    }
}
