using Microsoft.Extensions.Primitives;
using ProductionServing.Static;

namespace ProductionServing.Tests.Static;

/// <summary>
/// Sidecar selection from Accept-Encoding (RFC 9110 §12.5.3, q-values §12.4.2). Each row: the header
/// ('\n' separates field lines; null means no header), which sidecars exist, and the name of the
/// <see cref="ContentCoding"/> sent (the enum is internal, so a public theory cannot take it).
/// </summary>
public sealed class AcceptEncodingTests
{
    [Theory]
    // RFC 9110 §12.5.3: no header means no preference: send the file as is.
    [InlineData(null, true, true, "Identity")]
    // RFC 9110 §12.5.3: an empty field value means the client wants no coding.
    [InlineData("", true, true, "Identity")]
    // What browsers send: Brotli wins the tie at q=1 when it exists.
    [InlineData("gzip, deflate, br", true, true, "Brotli")]
    [InlineData("gzip, deflate, br, zstd", true, true, "Brotli")]
    [InlineData("gzip, deflate, br, zstd", false, true, "Gzip")]
    [InlineData("gzip, deflate, br, zstd", true, false, "Brotli")]
    [InlineData("gzip, deflate, br, zstd", false, false, "Identity")]
    [InlineData("gzip, deflate", true, false, "Identity")]
    [InlineData("deflate, zstd", true, true, "Identity")]
    // RFC 9110 §12.4.2: the highest q wins; a tie goes to Brotli.
    [InlineData("br;q=0.5, gzip", true, true, "Gzip")]
    [InlineData("gzip;q=0.8, br;q=0.8", true, true, "Brotli")]
    [InlineData("br;q=0.001, gzip;q=0.002", true, true, "Gzip")]
    [InlineData("br;q=1.000, gzip;q=0.999", true, true, "Brotli")]
    [InlineData("br;q=1.0, gzip;q=1", true, true, "Brotli")]
    // RFC 9110 §12.4.2: q=0 means "not acceptable".
    [InlineData("br;q=0", true, false, "Identity")]
    [InlineData("br;q=0.000, gzip", true, true, "Gzip")]
    // RFC 9110 §12.5.3: "*" matches any coding not listed, and its q=0 refuses them.
    [InlineData("*", true, true, "Brotli")]
    [InlineData("*", false, true, "Gzip")]
    [InlineData("*;q=0", true, true, "Identity")]
    [InlineData("gzip;q=0, *", true, true, "Brotli")]
    [InlineData("gzip;q=0, *", false, true, "Identity")]
    [InlineData("*;q=0.5, gzip", true, true, "Gzip")]
    [InlineData("*;q=0, br", true, true, "Brotli")]
    // identity competes only when listed (see AcceptEncoding remarks); an explicit higher q keeps the file as is.
    [InlineData("identity", true, true, "Identity")]
    [InlineData("identity;q=1, br;q=0.5", true, true, "Identity")]
    [InlineData("identity;q=0.5, br", true, true, "Brotli")]
    [InlineData("identity, br", true, true, "Brotli")]
    [InlineData("identity;q=0, *;q=0", true, true, "Identity")]
    // RFC 9110 §8.4.1: coding names are case-insensitive; x-gzip is gzip (§8.4.1.3); the q name too (§12.4.2).
    [InlineData("GZIP", false, true, "Gzip")]
    [InlineData("Br", true, true, "Brotli")]
    [InlineData("x-gzip", true, true, "Gzip")]
    [InlineData("X-GZIP;q=0.9, br;q=0.8", true, true, "Gzip")]
    [InlineData("br;Q=0.5, gzip;q=0.4", true, true, "Brotli")]
    // RFC 9110 §5.6.1: OWS around commas and semicolons, empty elements.
    [InlineData(" br ; q=0.9 , gzip;q=0.8 ", true, true, "Brotli")]
    [InlineData(", ,gzip,", true, true, "Gzip")]
    [InlineData("\tgzip\t;\tq=0.5", true, true, "Gzip")]
    // Malformed weights make the element unacceptable instead of throwing or defaulting to q=1.
    [InlineData("br;q=abc, gzip", true, true, "Gzip")]
    [InlineData("br;q=1.5, gzip;q=0.1", true, true, "Gzip")]
    [InlineData("br;q=0.0001", true, true, "Identity")]
    [InlineData("br;q=", true, true, "Identity")]
    [InlineData("br;q=.5", true, true, "Identity")]
    [InlineData("br;q=2", true, true, "Identity")]
    [InlineData("br;q = 0.5", true, true, "Identity")]
    [InlineData("br;level=5", true, true, "Identity")]
    [InlineData("br;q=0.5;x=y, gzip;q=0.1", true, true, "Gzip")]
    [InlineData(";q=1", true, true, "Identity")]
    // A coding listed twice counts at its best q.
    [InlineData("gzip;q=0.1, gzip;q=0.9, br;q=0.5", true, true, "Gzip")]
    // Several field lines form one list (RFC 9110 §5.3).
    [InlineData("gzip;q=0.5\nbr;q=0.4", true, true, "Gzip")]
    [InlineData("deflate\nbr", true, true, "Brotli")]
    public void Choose_Header_PicksHighestAcceptableAvailableCoding(string? header, bool brotli, bool gzip, string expected)
    {
        var values = header is null ? StringValues.Empty : new StringValues(header.Split('\n'));

        Assert.Equal(Enum.Parse<ContentCoding>(expected), AcceptEncoding.Choose(values, brotli, gzip));
    }

    [Fact]
    public void Choose_BrowserHeaders_DoNotAllocate()
    {
        StringValues[] headers =
        [
            new("gzip, deflate, br"),
            new("gzip, deflate, br, zstd"),
            new("br;q=1.0, gzip;q=0.8, *;q=0.1"),
        ];
        foreach (var header in headers)
        {
            AcceptEncoding.Choose(header, true, true);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 100; round++)
        {
            foreach (var header in headers)
            {
                AcceptEncoding.Choose(header, true, true);
                AcceptEncoding.Choose(header, false, true);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
