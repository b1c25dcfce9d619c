using Microsoft.Extensions.Primitives;

namespace ProductionServing.Static;

/// <summary>
/// Picks the precompressed sidecar to send from a request's <c>Accept-Encoding</c> (RFC 9110 §12.5.3).
/// </summary>
/// <remarks>
/// <para>
/// The header is scanned on spans with q-values kept as integer thousandths (RFC 9110 §12.4.2 allows
/// three decimals), so the headers browsers send (<c>gzip, deflate, br</c>, <c>gzip, deflate, br, zstd</c>)
/// cost no allocation.
/// </para>
/// <para>
/// <c>identity</c> competes only when the client lists it: unlisted, it is merely "acceptable by default"
/// (§12.5.3) with no preference, and a client that accepts gzip or br prefers the smaller response. Listed
/// with a higher q than every available coding, it wins, as in ASP.NET Core's ResponseCompression. On a
/// tie a compressed coding wins over identity, and Brotli (the smaller file) over gzip.
/// </para>
/// </remarks>
internal static class AcceptEncoding
{
    private const int NotListed = -1;
    private const int MaxQuality = 1000;

    /// <summary>
    /// Which precompressed sidecar to send (RFC 9110 §12.5.3): the acceptable coding with the highest q among those
    /// available; on a tie Brotli wins over gzip; q=0 means not acceptable; <c>*</c> covers codings not listed; no header → Identity.
    /// </summary>
    /// <param name="acceptEncoding">The request's <c>Accept-Encoding</c> lines; none means the client sent no header.</param>
    /// <param name="brotliAvailable">Whether a <c>.br</c> sidecar exists beside the file.</param>
    /// <param name="gzipAvailable">Whether a <c>.gz</c> sidecar exists beside the file.</param>
    /// <returns>
    /// The coding to send; <see cref="ContentCoding.Identity"/> when there is no header, an empty one (§12.5.3: no coding
    /// wanted), no acceptable sidecar, or an explicitly preferred <c>identity</c>. Names are case-insensitive, <c>x-gzip</c>
    /// counts as gzip, and an element with a malformed weight is unacceptable.
    /// </returns>
    public static ContentCoding Choose(StringValues acceptEncoding, bool brotliAvailable, bool gzipAvailable)
    {
        if (acceptEncoding.Count == 0 || !(brotliAvailable || gzipAvailable))
        {
            return ContentCoding.Identity;
        }

        var brotli = NotListed;
        var gzip = NotListed;
        var identity = NotListed;
        var any = NotListed;
        for (var i = 0; i < acceptEncoding.Count; i++)
        {
            Scan(acceptEncoding[i], ref brotli, ref gzip, ref identity, ref any);
        }

        // "*" stands for every coding the client did not name (§12.5.3).
        var brotliQ = !brotliAvailable ? 0 : brotli != NotListed ? brotli : Math.Max(any, 0);
        var gzipQ = !gzipAvailable ? 0 : gzip != NotListed ? gzip : Math.Max(any, 0);

        var best = ContentCoding.Identity;
        var bestQ = 0;
        if (brotliQ > 0 && brotliQ >= gzipQ)
        {
            best = ContentCoding.Brotli;
            bestQ = brotliQ;
        }
        else if (gzipQ > 0)
        {
            best = ContentCoding.Gzip;
            bestQ = gzipQ;
        }

        return identity > bestQ ? ContentCoding.Identity : best;
    }

    /// <summary>
    /// Reads one line of <c>#( codings [ weight ] )</c>, keeping for each coding of interest the highest q it was
    /// listed with (a coding listed twice is as acceptable as its best mention).
    /// </summary>
    private static void Scan(ReadOnlySpan<char> line, ref int brotli, ref int gzip, ref int identity, ref int any)
    {
        while (!line.IsEmpty)
        {
            var comma = line.IndexOf(',');
            var element = comma < 0 ? line : line[..comma];
            line = comma < 0 ? default : line[(comma + 1)..];

            var semicolon = element.IndexOf(';');
            var name = (semicolon < 0 ? element : element[..semicolon]).Trim(" \t");
            if (name.IsEmpty)
            {
                // Empty list element (RFC 9110 §5.6.1.2), or a weight with no coding.
                continue;
            }

            var quality = semicolon < 0 ? MaxQuality : ParseWeight(element[(semicolon + 1)..]);
            if (name.Equals("br", StringComparison.OrdinalIgnoreCase))
            {
                brotli = Math.Max(brotli, quality);
            }
            else if (name.Equals("gzip", StringComparison.OrdinalIgnoreCase) || name.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            {
                // x-gzip is gzip's old name; RFC 9110 §8.4.1.3 asks recipients to treat them as equivalent.
                gzip = Math.Max(gzip, quality);
            }
            else if (name.Equals("identity", StringComparison.OrdinalIgnoreCase))
            {
                identity = Math.Max(identity, quality);
            }
            else if (name is "*")
            {
                any = Math.Max(any, quality);
            }
        }
    }

    /// <summary>
    /// The q of <c>weight = OWS ";" OWS "q=" qvalue</c> (after the first ';'), in thousandths; 0 (unacceptable) when
    /// it is malformed, so a bad weight never selects a coding the client may not support.
    /// </summary>
    private static int ParseWeight(ReadOnlySpan<char> parameters)
    {
        var text = parameters.Trim(" \t");
        if (text.Length < 3 || (text[0] | 0x20) != 'q' || text[1] != '=')
        {
            return 0;
        }

        return TryParseQValue(text[2..], out var quality) ? quality : 0;
    }

    /// <summary>qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2), in thousandths.</summary>
    private static bool TryParseQValue(ReadOnlySpan<char> text, out int quality)
    {
        quality = 0;
        if (text.IsEmpty || text.Length > 5 || text[0] is not ('0' or '1'))
        {
            return false;
        }

        var whole = text[0] - '0';
        if (text.Length == 1)
        {
            quality = whole * MaxQuality;
            return true;
        }

        if (text[1] != '.')
        {
            return false;
        }

        var fraction = 0;
        var scale = 100;
        for (var i = 2; i < text.Length; i++)
        {
            if (!char.IsAsciiDigit(text[i]))
            {
                return false;
            }

            fraction += (text[i] - '0') * scale;
            scale /= 10;
        }

        if (whole == 1 && fraction != 0)
        {
            return false;
        }

        quality = (whole * MaxQuality) + fraction;
        return true;
    }
}
