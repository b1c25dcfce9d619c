using System.Globalization;
using System.Text;

namespace ProductionServing.Import.Conversion;

/// <summary>nginx's value syntaxes: sizes, times and <c>$variables</c>, read as nginx reads them.</summary>
internal static class NginxValues
{
    /// <summary>A size as nginx's <c>ngx_parse_size</c> reads it: bytes, or k, m, g (either case).</summary>
    public static bool TrySize(string text, out long bytes)
    {
        bytes = 0;
        if (text.Length == 0)
        {
            return false;
        }

        var scale = char.ToLowerInvariant(text[^1]) switch { 'k' => 1024L, 'm' => 1024L * 1024, 'g' => 1024L * 1024 * 1024, _ => 1L };
        var digits = scale == 1 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > long.MaxValue / scale)
        {
            return false;
        }

        bytes = value * scale;
        return true;
    }

    /// <summary>
    /// A time as nginx's <c>ngx_parse_time</c> reads it: numbers with units (ms, s, m, h, d, w, M, y), in
    /// decreasing order and combined (<c>1m30s</c>); a bare number is seconds.
    /// </summary>
    public static bool TryTime(string text, out TimeSpan time)
    {
        time = TimeSpan.Zero;
        var i = 0;
        var total = 0.0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start)
            {
                return false;
            }

            var value = double.Parse(text.AsSpan(start, i - start), CultureInfo.InvariantCulture);
            var unit = i < text.Length ? text[i] : ' ';
            double seconds;
            if (unit == 'm' && i + 1 < text.Length && text[i + 1] == 's')
            {
                seconds = 0.001;
                i += 2;
            }
            else
            {
                seconds = unit switch
                {
                    's' or ' ' => 1,
                    'm' => 60,
                    'h' => 3600,
                    'd' => 86400,
                    'w' => 7 * 86400,
                    'M' => 30 * 86400,
                    'y' => 365 * 86400,
                    _ => -1,
                };
                if (seconds < 0)
                {
                    return false;
                }

                i += unit == ' ' ? 0 : 1;
            }

            total += value * seconds;
        }

        time = TimeSpan.FromSeconds(total);
        return text.Length > 0;
    }

    /// <summary>A duration as the library's configuration writes it (<c>hh:mm:ss[.fff]</c>).</summary>
    public static string Duration(TimeSpan time) => time.ToString("c", CultureInfo.InvariantCulture);

    /// <summary>
    /// An nginx value with variables as a ProductionServing template: the variables both have keep their
    /// names, nginx's synonyms take ours (<c>$query_string</c> is <c>$args</c>, <c>$document_uri</c> is
    /// <c>$uri</c>, <c>$binary_remote_addr</c> keys by the same address as <c>$remote_addr</c>).
    /// </summary>
    /// <param name="text">The value as nginx has it.</param>
    /// <param name="template">The template; meaningful when the result is true.</param>
    /// <param name="unknown">The first variable with no equivalent, when the result is false.</param>
    public static bool TryTemplate(string text, out string template, out string unknown)
    {
        unknown = "";
        template = text;
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return true;
        }

        var result = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] != '$')
            {
                result.Append(text[i++]);
                continue;
            }

            var braced = i + 1 < text.Length && text[i + 1] == '{';
            var start = i + (braced ? 2 : 1);
            var end = start;
            while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
            {
                end++;
            }

            var name = text[start..end];
            if (braced && (end >= text.Length || text[end] != '}'))
            {
                unknown = text[i..];
                return false;
            }

            var ours = Ours(name);
            if (ours is null)
            {
                unknown = "$" + name;
                return false;
            }

            result.Append(braced ? "${" + ours + "}" : "$" + ours);
            i = end + (braced ? 1 : 0);
        }

        template = result.ToString();
        return true;
    }

    private static string? Ours(string name) => name switch
    {
        "scheme" or "host" or "request_uri" or "uri" or "args" or "request_method" or "remote_addr" or "request_id" => name,
        "query_string" => "args",
        "document_uri" => "uri",
        "binary_remote_addr" => "remote_addr",
        _ when name.Length > "http_".Length && name.StartsWith("http_", StringComparison.Ordinal) => name,
        _ when name.Length > "cookie_".Length && name.StartsWith("cookie_", StringComparison.Ordinal) => name,
        _ when name.Length == 1 && name[0] is >= '1' and <= '9' => name,
        _ => null,
    };
}
