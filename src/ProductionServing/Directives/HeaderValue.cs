using System.Buffers;
using System.Text;

namespace ProductionServing.Directives;

/// <summary>
/// What a header value can carry when Kestrel sends it in a response or HttpClient in an upstream request: visible
/// ASCII, space and tab (RFC 9110 §5.5, which makes other octets obsolete; both refuse them by default).
/// </summary>
internal static class HeaderValue
{
    private static readonly SearchValues<char> Sendable = SearchValues.Create(
        "\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>The index of the first character a header value cannot carry, or -1.</summary>
    public static int IndexOfUnsendable(ReadOnlySpan<char> value) => value.IndexOfAnyExcept(Sendable);

    /// <summary>
    /// <paramref name="value"/>, with each character a header cannot carry percent-encoded as its UTF-8 bytes
    /// (RFC 3986 §2.1): a variable such as <c>$uri</c> is decoded, so it can hold <c>é</c> or a CR, and nginx would
    /// send those raw. Returns <paramref name="value"/> itself when there is nothing to encode.
    /// </summary>
    public static string Encode(string value)
    {
        var first = IndexOfUnsendable(value);
        if (first < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 16);
        builder.Append(value, 0, first);
        Span<byte> bytes = stackalloc byte[4];
        foreach (var rune in value.AsSpan(first).EnumerateRunes())
        {
            if (rune.IsAscii && Sendable.Contains((char)rune.Value))
            {
                builder.Append((char)rune.Value);
                continue;
            }

            var length = rune.EncodeToUtf8(bytes);
            for (var i = 0; i < length; i++)
            {
                builder.Append('%').Append(HexUpper[bytes[i] >> 4]).Append(HexUpper[bytes[i] & 0xF]);
            }
        }

        return builder.ToString();
    }

    private const string HexUpper = "0123456789ABCDEF";
}
