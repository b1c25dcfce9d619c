using CsCheck;
using ProductionServing.Static;

namespace ProductionServing.Tests.Static;

/// <summary>
/// The Range header parser (RFC 9110 §14.1, §14.2). Rows cite the RFC section, nginx-tests <c>range.t</c>
/// (a 1000-byte file, <c>max_ranges</c> 2 and 0 on some locations) or ASP.NET Core's StaticFiles
/// <c>RangeHeaderTests.cs</c> (a 62-byte file, a 1-byte file and an empty one). Expected ranges are written
/// as inclusive <c>first-last</c> pairs, the form <c>Content-Range</c> shows.
/// </summary>
public sealed class RangeRequestTests
{
    private const int DefaultMaxRanges = 16;

    [Theory]
    // RFC 9110 §14.1.2 examples, a 10000-byte representation.
    [InlineData("bytes=0-499", 10000, "0-499")]
    [InlineData("bytes=500-999", 10000, "500-999")]
    [InlineData("bytes=-500", 10000, "9500-9999")]
    [InlineData("bytes=9500-", 10000, "9500-9999")]
    [InlineData("bytes=0-0,-1", 10000, "0-0,9999-9999")]
    [InlineData("bytes=500-600,601-999", 10000, "500-600,601-999")]
    // nginx range.t, 1000 bytes: plain, suffix, open, last-pos past the end clamped.
    [InlineData("bytes=0-8", 1000, "0-8")]
    [InlineData("bytes=-10", 1000, "990-999")]
    [InlineData("bytes=990-", 1000, "990-999")]
    [InlineData("bytes=990-1990", 1000, "990-999")]
    [InlineData("bytes=0-10001", 1000, "0-999")]
    // nginx range.t multipart: request order kept, an unsatisfiable member dropped.
    [InlineData("bytes=0-9, -10, 10-19", 1000, "0-9,990-999,10-19")]
    [InlineData("bytes=0-9, -10, 100000-, 10-19", 1000, "0-9,990-999,10-19")]
    // ASP.NET Core RangeHeaderTests, 62 bytes: whitespace around the dash, suffix longer than the file.
    [InlineData("bytes=0-0", 62, "0-0")]
    [InlineData("bytes=0- 9", 62, "0-9")]
    [InlineData("bytes=0 -9", 62, "0-9")]
    [InlineData("bytes=0 - 9", 62, "0-9")]
    [InlineData("bytes=36-", 62, "36-61")]
    [InlineData("bytes=-26", 62, "36-61")]
    [InlineData("bytes=0-", 62, "0-61")]
    [InlineData("bytes=-1001", 62, "0-61")]
    // ASP.NET Core RangeHeaderTests, a 1-byte file.
    [InlineData("bytes=0-", 1, "0-0")]
    [InlineData("bytes=-1", 1, "0-0")]
    [InlineData("bytes=-2", 1, "0-0")]
    [InlineData("bytes=0-2", 1, "0-0")]
    // RFC 9110 §14.1.1: the unit is case-insensitive; §5.6.1: OWS and empty list elements.
    [InlineData("Bytes=0-1", 10, "0-1")]
    [InlineData("BYTES=0-1", 10, "0-1")]
    [InlineData("  bytes=0-1  ", 10, "0-1")]
    [InlineData("bytes=,0-1,, 3-4 ,", 10, "0-1,3-4")]
    [InlineData("bytes=0-1,\t3-4", 10, "0-1,3-4")]
    [InlineData("bytes=000-001", 10, "0-1")]
    // Adjacent ranges do not overlap (nginx range.t "0-9, -10, 10-19" relies on it).
    [InlineData("bytes=0-4,5-9", 10, "0-4,5-9")]
    // Numbers beyond long saturate: a huge last-pos or suffix means "to the end" (RFC 9110 §14.1.2).
    [InlineData("bytes=5-99999999999999999999", 10, "5-9")]
    [InlineData("bytes=-99999999999999999999", 10, "0-9")]
    [InlineData("bytes=0-9223372036854775807", 10, "0-9")]
    [InlineData("bytes=9223372036854775806-", 9223372036854775807, "9223372036854775806-9223372036854775806")]
    public void Parse_SatisfiableRanges_ReturnsPartialInRequestOrder(string header, long length, string expected)
    {
        var outcome = RangeRequest.Parse(header, length, DefaultMaxRanges, out var ranges);

        Assert.Equal(RangeOutcome.Partial, outcome);
        Assert.Equal(expected, Format(ranges));
    }

    [Theory]
    // No header (RFC 9110 §14.2: Range is optional) — ASP.NET Core RangeHelperTests "null" and "".
    [InlineData(null, 1000, DefaultMaxRanges)]
    [InlineData("", 1000, DefaultMaxRanges)]
    [InlineData("   ", 1000, DefaultMaxRanges)]
    // RFC 9110 §14.2: an origin server MUST ignore a range unit it does not understand.
    [InlineData("items=0-1", 1000, DefaultMaxRanges)]
    [InlineData("bytes 0-1", 1000, DefaultMaxRanges)]
    [InlineData("0-1", 1000, DefaultMaxRanges)]
    [InlineData("bytes=0-1;x", 1000, DefaultMaxRanges)]
    // ASP.NET Core RangeHeaderTests.SingleInvalidRangeIgnored: invalid syntax is ignored (RFC 9110 §14.2 allows it).
    [InlineData("bytes=", 62, DefaultMaxRanges)]
    [InlineData("bytes=0", 62, DefaultMaxRanges)]
    [InlineData("bytes=1-0", 62, DefaultMaxRanges)]
    [InlineData("bytes=-", 62, DefaultMaxRanges)]
    [InlineData("bytes=a-", 62, DefaultMaxRanges)]
    [InlineData("bytes=-b", 62, DefaultMaxRanges)]
    [InlineData("bytes=a-b", 62, DefaultMaxRanges)]
    // nginx range.t answers these with 416; RFC 9110 §14.2 lets a server ignore an invalid set, and we do.
    [InlineData("bytes=alpha", 1000, DefaultMaxRanges)]
    [InlineData("bytes=10-alpha", 1000, DefaultMaxRanges)]
    [InlineData("bytes=10", 1000, DefaultMaxRanges)]
    [InlineData("bytes=10-11 12-", 1000, DefaultMaxRanges)]
    // One invalid member invalidates the whole set, even beside good ones (RFC 9110 §14.1.1).
    [InlineData("bytes=0-1, 5-3", 1000, DefaultMaxRanges)]
    [InlineData("bytes=0-1, x", 1000, DefaultMaxRanges)]
    [InlineData("bytes=, ,", 1000, DefaultMaxRanges)]
    [InlineData("bytes=--1", 1000, DefaultMaxRanges)]
    [InlineData("bytes=+1-2", 1000, DefaultMaxRanges)]
    [InlineData("bytes=1-2-3", 1000, DefaultMaxRanges)]
    [InlineData("bytes=0x10-0x20", 1000, DefaultMaxRanges)]
    // Both numbers saturate, yet last-pos < first-pos is still seen: invalid, not unsatisfiable.
    [InlineData("bytes=99999999999999999999-99999999999999999998", 1000, DefaultMaxRanges)]
    // nginx range.t "malicious byte ranges": overlapping ranges get 200.
    [InlineData("bytes=0-10001, 0-0", 1000, DefaultMaxRanges)]
    // RFC 9110 §14.1.2 calls this a valid spelling of 500-999; it overlaps, so we send the whole file.
    [InlineData("bytes=500-700,601-999", 10000, DefaultMaxRanges)]
    [InlineData("bytes=0-0,-1", 1, DefaultMaxRanges)]
    [InlineData("bytes=-5, 0-", 10, DefaultMaxRanges)]
    // nginx range.t max_ranges 2 "max_ranges reached", and max_ranges 0 "max_ranges zero".
    [InlineData("bytes=0-9, -10, 10-19", 1000, 2)]
    [InlineData("bytes=0-9", 1000, 0)]
    // Counting is of range-specs as sent: nginx range.t "max_ranges not reached bad range" gets 206
    // because nginx counts only satisfiable ranges; we bound the header as sent (see RangeRequest).
    [InlineData("bytes=0-9, -10, 10000-", 1000, 2)]
    // An invalid header on an empty file is still ignored, not 416.
    [InlineData("bytes=alpha", 0, DefaultMaxRanges)]
    public void Parse_IgnorableHeader_ReturnsFull(string? header, long length, int maxRanges)
    {
        var outcome = RangeRequest.Parse(header, length, maxRanges, out var ranges);

        Assert.Equal(RangeOutcome.Full, outcome);
        Assert.Empty(ranges);
    }

    [Theory]
    // nginx range.t "not satisfiable - too big first byte pos".
    [InlineData("bytes=100000-", 1000)]
    // ASP.NET Core RangeHeaderTests.SingleNotSatisfiableRange, 62 bytes: past the end, and a zero suffix.
    [InlineData("bytes=100-", 62)]
    [InlineData("bytes=1000-1001", 62)]
    [InlineData("bytes=-0", 62)]
    // RFC 9110 §14.1.1: a first-pos equal to the length is already past the last byte.
    [InlineData("bytes=62-", 62)]
    [InlineData("bytes=62-62, 100-, -0", 62)]
    // ASP.NET Core RangeHeaderTests.SingleValidRangeShouldServeRequestedRangeNotSatisfiableEmptyFile.
    [InlineData("bytes=0-0", 0)]
    [InlineData("bytes=0-", 0)]
    [InlineData("bytes=-1", 0)]
    [InlineData("bytes=-2", 0)]
    [InlineData("bytes=0-1", 0)]
    [InlineData("bytes=0-2", 0)]
    // A first-pos beyond long is past any file (the brief's overflow case).
    [InlineData("bytes=99999999999999999999-", 1000)]
    [InlineData("bytes=18446744073709551616-18446744073709551617", 1000)]
    [InlineData("bytes=9223372036854775807-", 9223372036854775807)]
    public void Parse_NoSatisfiableRange_ReturnsUnsatisfiable(string header, long length)
    {
        var outcome = RangeRequest.Parse(header, length, DefaultMaxRanges, out var ranges);

        Assert.Equal(RangeOutcome.Unsatisfiable, outcome);
        Assert.Empty(ranges);
    }

    [Theory]
    // Above 16 satisfiable ranges the overlap check sorts a copy; the answer must not change, nor the order.
    [InlineData(40, false)]
    [InlineData(40, true)]
    [InlineData(17, true)]
    public void Parse_ManyRanges_ChecksOverlapAndKeepsOrder(int count, bool overlapLast)
    {
        // Descending disjoint ranges "390-394, 380-384, ...", optionally ending with one overlapping the first.
        var parts = new List<string>();
        for (var i = count - 1; i >= 0; i--)
        {
            parts.Add($"{i * 10}-{(i * 10) + 4}");
        }

        if (overlapLast)
        {
            parts[^1] = $"{((count - 1) * 10) + 2}-{((count - 1) * 10) + 3}";
        }

        var header = "bytes=" + string.Join(",", parts);

        var outcome = RangeRequest.Parse(header, 10_000, maxRanges: 100, out var ranges);

        if (overlapLast)
        {
            Assert.Equal(RangeOutcome.Full, outcome);
            return;
        }

        Assert.Equal(RangeOutcome.Partial, outcome);
        Assert.Equal(string.Join(",", parts), Format(ranges));
    }

    [Fact]
    public void Parse_MoreRangesThanMaxRanges_ReturnsFull()
    {
        Assert.Equal(RangeOutcome.Partial, RangeRequest.Parse("bytes=0-0,2-2,4-4", 10, maxRanges: 3, out _));
        Assert.Equal(RangeOutcome.Full, RangeRequest.Parse("bytes=0-0,2-2,4-4,6-6", 10, maxRanges: 3, out _));
    }

    [Fact]
    public void Parse_NegativeLength_Throws()
    {
        // A caller bug, never a client's input: the header alone can never throw.
        Assert.Throws<ArgumentOutOfRangeException>(() => RangeRequest.Parse("bytes=0-1", -1, DefaultMaxRanges, out _));
    }

    [Fact]
    public void ByteRange_End_IsInclusiveLastPos()
    {
        Assert.Equal(499, new ByteRange(0, 500).End);
        Assert.Equal(9999, new ByteRange(9500, 500).End);
    }

    [Fact]
    public void Parse_RandomHeaders_NeverThrowsAndStaysInBounds()
    {
        // Property: whatever the header, length and limit, Parse returns; a Partial result has 1..maxRanges
        // non-empty, non-overlapping ranges inside [0, length); any other result has no ranges.
        string[] pieces =
        [
            "bytes=", "bytes=", "Bytes=", "items=", "-", "-", "-", ",", ",", " ", "\t", "=", "a", "x", "0", "1",
            "99999999999999999999", "9223372036854775807", "9223372036854775808", "18446744073709551615",
        ];
        var piece = Gen.OneOf(
            Gen.Int[0, pieces.Length - 1].Select(i => pieces[i]),
            Gen.Long[0, 2000].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Gen.Char.Select(c => c.ToString()));
        var header = Gen.OneOf(
            piece.Array[0, 16].Select(p => "bytes=" + string.Concat(p)),
            piece.Array[0, 16].Select(string.Concat),
            Gen.String);
        var length = Gen.OneOf(Gen.Long[0, 3000], Gen.Long[0, long.MaxValue / 2], Gen.Const(0L));

        Gen.Select(header, length, Gen.Int[-1, 20]).Sample((h, len, max) =>
        {
            var outcome = RangeRequest.Parse(h, len, max, out var ranges);
            AssertWellFormed(outcome, ranges, len, max);
        }, iter: 20_000);
    }

    [Fact]
    public void Parse_RandomSingleRange_MatchesRfcModel()
    {
        // Property: a well-formed single int-range or suffix-range resolves as RFC 9110 §14.1.2 says.
        var spec = Gen.Select(Gen.Long[0, 300], Gen.Long[0, 300], Gen.Int[0, 2], Gen.Long[0, 200]);
        spec.Sample((a, b, kind, length) =>
        {
            string header;
            long? start = null, end = null;
            switch (kind)
            {
                case 0:
                    var (first, last) = (Math.Min(a, b), Math.Max(a, b));
                    header = $"bytes={first}-{last}";
                    if (first < length)
                    {
                        (start, end) = (first, Math.Min(last, length - 1));
                    }

                    break;
                case 1:
                    header = $"bytes={a}-";
                    if (a < length)
                    {
                        (start, end) = (a, length - 1);
                    }

                    break;
                default:
                    header = $"bytes=-{a}";
                    if (a > 0 && length > 0)
                    {
                        (start, end) = (Math.Max(0, length - a), length - 1);
                    }

                    break;
            }

            var outcome = RangeRequest.Parse(header, length, DefaultMaxRanges, out var ranges);
            if (start is null)
            {
                Assert.Equal(RangeOutcome.Unsatisfiable, outcome);
            }
            else
            {
                Assert.Equal(RangeOutcome.Partial, outcome);
                Assert.Equal($"{start}-{end}", Format(ranges));
            }
        }, iter: 5_000);
    }

    private static void AssertWellFormed(RangeOutcome outcome, ByteRange[] ranges, long length, int maxRanges)
    {
        if (outcome != RangeOutcome.Partial)
        {
            Assert.Empty(ranges);
            return;
        }

        Assert.InRange(ranges.Length, 1, maxRanges);
        for (var i = 0; i < ranges.Length; i++)
        {
            var range = ranges[i];
            Assert.True(range.Start >= 0 && range.Length >= 1 && range.End < length, $"{range} outside [0, {length})");
            for (var j = i + 1; j < ranges.Length; j++)
            {
                Assert.False(range.Start <= ranges[j].End && ranges[j].Start <= range.End, $"{range} overlaps {ranges[j]}");
            }
        }
    }

    private static string Format(ByteRange[] ranges) =>
        string.Join(",", ranges.Select(static r => $"{r.Start}-{r.End}"));
}
