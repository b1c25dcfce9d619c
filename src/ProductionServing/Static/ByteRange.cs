namespace ProductionServing.Static;

/// <summary>
/// A satisfiable byte range of a representation: <paramref name="Length"/> bytes from offset
/// <paramref name="Start"/>, both already resolved against the representation's length (RFC 9110 §14.1.2).
/// </summary>
/// <remarks>
/// Kept as start and length, not as the first-pos/last-pos pair of the header, because that is what
/// <c>SendFileAsync</c> and a stream copy take; <see cref="End"/> gives the inclusive last-pos that
/// <c>Content-Range</c> (RFC 9110 §14.4) needs.
/// </remarks>
/// <param name="Start">Offset of the first byte, in bytes from the start of the representation (0-based).</param>
/// <param name="Length">Number of bytes in the range; at least 1 for every range <see cref="RangeRequest"/> produces.</param>
internal readonly record struct ByteRange(long Start, long Length)
{
    /// <summary>Offset of the last byte, inclusive: the last-pos written in <c>Content-Range: bytes Start-End/LEN</c>.</summary>
    public long End => Start + Length - 1;
}
