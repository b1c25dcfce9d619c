using System.Buffers;

namespace ProductionServing.Static;

/// <summary>
/// Parses a <c>Range</c> header (RFC 9110 §14.1.1, §14.2) against a representation of known length into
/// the byte ranges to send.
/// </summary>
/// <remarks>
/// <para>
/// Leniency follows RFC 9110 §14.2, which lets a server ignore a Range header it cannot use: an
/// unknown unit, an empty range set, garbage (<c>bytes=alpha</c>), a range whose last-pos is below its
/// first-pos (§14.1.1 calls the whole set invalid) all yield <see cref="RangeOutcome.Full"/>, as ASP.NET
/// Core's StaticFiles does. nginx answers 416 to some of these instead; a 200 with the whole file is the
/// answer every client copes with. Optional whitespace is accepted around list commas (the <c>#</c> rule,
/// RFC 9110 §5.6.1) and, as ASP.NET Core accepts it, around the dash of a range.
/// </para>
/// <para>
/// Numbers are unbounded in the grammar, so digits that overflow <see cref="long"/> saturate instead of
/// failing: <c>bytes=99999999999999999999-</c> starts past every representation and is unsatisfiable, an
/// overflowing last-pos is clamped to the end like any other, and an overflowing suffix means the whole
/// representation. Nothing the client sends can throw.
/// </para>
/// <para>
/// Range amplification defence (CVE-2011-3192 "Apache Killer"): more than <c>maxRanges</c> range-specs
/// (nginx <c>max_ranges</c>) or two satisfiable ranges that overlap (nginx's "malicious byte ranges"
/// check, ASP.NET Core's refusal of anything but one range) turn the request into a plain 200, which
/// RFC 9110 §14.2 allows. Counting is of range-specs as sent, not of the satisfiable ones: nginx counts
/// only the satisfiable ones, but the header's size is the client's to choose, so we bound the parsing
/// work too.
/// </para>
/// </remarks>
internal static class RangeRequest
{
    private const string BytesUnit = "bytes=";

    /// <summary>Ranges held on the stack while parsing; a header with more (and a MaxRanges that allows them) rents.</summary>
    private const int StackRanges = 32;

    /// <summary>At or below this count overlap is checked pairwise; above it on a sorted copy.</summary>
    private const int PairwiseOverlapLimit = 16;

    /// <summary>
    /// Parses a Range header (RFC 9110 §14.1.1, §14.2) against a representation of <paramref name="length"/> bytes.
    /// </summary>
    /// <param name="rangeHeader">The request's <c>Range</c> field value, or null when it has none.</param>
    /// <param name="length">The representation's length in bytes (of the encoded bytes when a precompressed sidecar is sent); not negative.</param>
    /// <param name="maxRanges">
    /// Most range-specs honoured (<c>MaxRanges</c>, default 16, like nginx <c>max_ranges</c>); a header with more is
    /// ignored. Zero or less turns range support off: every Range header is ignored.
    /// </param>
    /// <param name="ranges">
    /// For <see cref="RangeOutcome.Partial"/>, the satisfiable ranges in request order, each inside
    /// [0, <paramref name="length"/>) with a length of at least 1; otherwise an empty array.
    /// </param>
    /// <returns>Whether to send the whole representation, the ranges, or 416.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative (a caller bug, never a client's).</exception>
    public static RangeOutcome Parse(string? rangeHeader, long length, int maxRanges, out ByteRange[] ranges)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ranges = [];
        if (string.IsNullOrEmpty(rangeHeader) || maxRanges <= 0)
        {
            return RangeOutcome.Full;
        }

        var value = rangeHeader.AsSpan().Trim(" \t");
        if (!value.StartsWith(BytesUnit, StringComparison.OrdinalIgnoreCase))
        {
            // Another unit (or none): an origin server MUST ignore a unit it does not understand (§14.2).
            return RangeOutcome.Full;
        }

        var set = value[BytesUnit.Length..];

        // Each range-spec takes at least two characters and a comma, so this bounds the count without
        // trusting maxRanges (which may be configured large) for the buffer size.
        var capacity = Math.Min(maxRanges, (set.Length / 2) + 1);
        ByteRange[]? rented = null;
        var buffer = capacity <= StackRanges
            ? stackalloc ByteRange[StackRanges]
            : (rented = ArrayPool<ByteRange>.Shared.Rent(capacity));
        try
        {
            var outcome = ParseSet(set, length, maxRanges, buffer, out var count);
            if (outcome == RangeOutcome.Partial)
            {
                ranges = buffer[..count].ToArray();
            }

            return outcome;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ByteRange>.Shared.Return(rented);
            }
        }
    }

    private static RangeOutcome ParseSet(ReadOnlySpan<char> set, long length, int maxRanges, Span<ByteRange> buffer, out int count)
    {
        count = 0;
        var requested = 0;
        var pos = 0;
        while (true)
        {
            // Empty list elements ("bytes=, 0-1,,2-3") are allowed and skipped (RFC 9110 §5.6.1.2).
            SkipWhitespace(set, ref pos);
            if (pos == set.Length)
            {
                break;
            }

            if (set[pos] == ',')
            {
                pos++;
                continue;
            }

            if (!TryParseSpec(set, ref pos, length, out var range, out var satisfiable))
            {
                return RangeOutcome.Full;
            }

            if (++requested > maxRanges)
            {
                return RangeOutcome.Full;
            }

            if (satisfiable)
            {
                buffer[count++] = range;
            }

            // A range-spec ends at a comma or at the end: "bytes=10-11 12-" is invalid (nginx range.t "no comma").
            SkipWhitespace(set, ref pos);
            if (pos < set.Length && set[pos] != ',')
            {
                return RangeOutcome.Full;
            }
        }

        if (requested == 0)
        {
            // "bytes=" or "bytes=, ,": range-set is 1#range-spec, so this is not a range set at all.
            return RangeOutcome.Full;
        }

        if (count == 0)
        {
            return RangeOutcome.Unsatisfiable;
        }

        return Overlaps(buffer[..count]) ? RangeOutcome.Full : RangeOutcome.Partial;
    }

    /// <summary>
    /// Reads one int-range or suffix-range at <paramref name="pos"/> and resolves it against the length
    /// (RFC 9110 §14.1.2); false when it is not a valid range-spec, which invalidates the whole set.
    /// </summary>
    private static bool TryParseSpec(ReadOnlySpan<char> set, ref int pos, long length, out ByteRange range, out bool satisfiable)
    {
        range = default;
        satisfiable = false;
        if (set[pos] == '-')
        {
            pos++;
            SkipWhitespace(set, ref pos);
            if (!TryReadNumber(set, ref pos, out var suffixLength, out _))
            {
                return false;
            }

            // A zero suffix-length selects nothing (§14.1.1); a suffix longer than the representation is all of it (§14.1.2).
            if (suffixLength > 0 && length > 0)
            {
                var taken = Math.Min(suffixLength, length);
                range = new ByteRange(length - taken, taken);
                satisfiable = true;
            }

            return true;
        }

        if (!TryReadNumber(set, ref pos, out var first, out var firstDigits))
        {
            return false;
        }

        SkipWhitespace(set, ref pos);
        if (pos == set.Length || set[pos] != '-')
        {
            return false;
        }

        pos++;
        SkipWhitespace(set, ref pos);
        var hasLast = TryReadNumber(set, ref pos, out var last, out var lastDigits);
        if (hasLast && IsLess(last, lastDigits, first, firstDigits))
        {
            // §14.1.1: "A range-spec is invalid if the last-pos value is present and less than the first-pos."
            return false;
        }

        // A first-pos at or past the end is unsatisfiable; a last-pos past the end is clamped (§14.1.2).
        if (first < length)
        {
            var end = hasLast && last < length - 1 ? last : length - 1;
            range = new ByteRange(first, end - first + 1);
            satisfiable = true;
        }

        return true;
    }

    /// <summary>Reads 1*DIGIT, saturating at <see cref="long.MaxValue"/>; false when no digit is there.</summary>
    private static bool TryReadNumber(ReadOnlySpan<char> text, ref int pos, out long value, out ReadOnlySpan<char> digits)
    {
        var start = pos;
        value = 0;
        while (pos < text.Length && char.IsAsciiDigit(text[pos]))
        {
            var digit = text[pos] - '0';
            value = value > (long.MaxValue - digit) / 10 ? long.MaxValue : (value * 10) + digit;
            pos++;
        }

        digits = text[start..pos];
        return pos > start;
    }

    /// <summary>
    /// <paramref name="a"/> &lt; <paramref name="b"/>, exact even when both saturated, by comparing the
    /// digit strings (leading zeros dropped) when the values cannot tell.
    /// </summary>
    private static bool IsLess(long a, ReadOnlySpan<char> aDigits, long b, ReadOnlySpan<char> bDigits)
    {
        if (a != long.MaxValue || b != long.MaxValue)
        {
            return a < b;
        }

        aDigits = aDigits.TrimStart('0');
        bDigits = bDigits.TrimStart('0');
        return aDigits.Length != bDigits.Length
            ? aDigits.Length < bDigits.Length
            : aDigits.SequenceCompareTo(bDigits) < 0;
    }

    private static bool Overlaps(Span<ByteRange> ranges)
    {
        if (ranges.Length <= PairwiseOverlapLimit)
        {
            for (var i = 0; i < ranges.Length; i++)
            {
                for (var j = i + 1; j < ranges.Length; j++)
                {
                    if (ranges[i].Start <= ranges[j].End && ranges[j].Start <= ranges[i].End)
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        // Only with a large configured MaxRanges: sort a copy (the caller gets request order) and check neighbours.
        var sorted = ArrayPool<ByteRange>.Shared.Rent(ranges.Length);
        try
        {
            var span = sorted.AsSpan(0, ranges.Length);
            ranges.CopyTo(span);
            span.Sort(static (x, y) => x.Start.CompareTo(y.Start));
            for (var i = 1; i < span.Length; i++)
            {
                if (span[i].Start <= span[i - 1].End)
                {
                    return true;
                }
            }

            return false;
        }
        finally
        {
            ArrayPool<ByteRange>.Shared.Return(sorted);
        }
    }

    private static void SkipWhitespace(ReadOnlySpan<char> text, ref int pos)
    {
        while (pos < text.Length && text[pos] is ' ' or '\t')
        {
            pos++;
        }
    }
}
