using System.Globalization;
using System.Text;

namespace ProductionServing.Fuzz;

/// <summary>
/// The normalisation <c>RequestPath</c> implements, written as plainly as possible (lists and strings,
/// the whole input decoded before anything is resolved) so that a difference is a bug in one of the two:
/// RFC 3986 §5.2.4 dot-segment removal with nginx's <c>merge_slashes on</c>, refusing a climb above '/',
/// a malformed escape, bytes that are not strict UTF-8, ASCII control characters and '\'.
/// </summary>
internal static class PathModel
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The normalised path, or null where a request must be refused.</summary>
    public static string? Normalize(string raw, bool decode, bool allowDotSegments)
    {
        if (raw.Length == 0 || raw[0] != '/')
        {
            return null;
        }

        var text = decode ? PercentDecode(raw) : raw;
        if (text is null || !IsWellFormed(text))
        {
            return null;
        }

        foreach (var c in text)
        {
            if (c < ' ' || c == '\x7f' || c == '\\')
            {
                return null;
            }
        }

        var parts = text.Split('/');
        var kept = new List<string>();
        foreach (var part in parts)
        {
            if (part.Length == 0)
            {
                continue;
            }

            if (part is "." or "..")
            {
                if (!allowDotSegments || (part == ".." && kept.Count == 0))
                {
                    return null;
                }

                if (part == "..")
                {
                    kept.RemoveAt(kept.Count - 1);
                }

                continue;
            }

            kept.Add(part);
        }

        // A path ending in '/', "/." or "/.." names a folder, and keeps its trailing slash.
        var trailingSlash = parts[^1] is "" or "." or "..";
        return kept.Count == 0 ? "/" : "/" + string.Join('/', kept) + (trailingSlash ? "/" : "");
    }

    /// <summary>Whether the text has no lone surrogate (so it has a UTF-8 form).</summary>
    private static bool IsWellFormed(string text)
    {
        try
        {
            _ = Strict.GetByteCount(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>Decodes every %XX to its byte and the rest to UTF-8, then reads it all as strict UTF-8; null when either fails.</summary>
    private static string? PercentDecode(string raw)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '%')
            {
                if (i + 2 >= raw.Length || !byte.TryParse(raw.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                {
                    return null;
                }

                bytes.Add(b);
                i += 2;
                continue;
            }

            var length = char.IsHighSurrogate(raw[i]) && i + 1 < raw.Length && char.IsLowSurrogate(raw[i + 1]) ? 2 : 1;
            try
            {
                bytes.AddRange(Strict.GetBytes(raw.Substring(i, length)));
            }
            catch (EncoderFallbackException)
            {
                return null;
            }

            i += length - 1;
        }

        try
        {
            return Strict.GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
