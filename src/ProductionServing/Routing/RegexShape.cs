namespace ProductionServing.Routing;

/// <summary>
/// What can be proved about the paths a regex location matches by reading its pattern, without
/// deciding regex inclusion in general (which this does not try): a literal every matched path starts
/// with, a literal under which it matches every path, or the one path it matches.
/// </summary>
/// <remarks>
/// Only simple shapes are read: <c>^</c> followed by literal characters (escaped punctuation included),
/// then nothing, <c>.*</c>, <c>.*$</c> or <c>$</c>, and a few patterns that match any path (<c>/</c>,
/// <c>.*</c>, <c>^</c>, …). Anything else (an alternation, a class, a group, a quantifier on the literal's
/// last character) proves nothing beyond "the path starts with '/'". Matching is on the normalized path,
/// which always starts with '/' and never holds a control character, so <c>.</c> and <c>$</c> behave plainly.
/// </remarks>
internal readonly record struct RegexShape(bool CaseInsensitive, string Anchor, string? Covers, string? Only)
{
    /// <summary>Patterns that match every normalized path (a path is never empty and has no newline).</summary>
    private static readonly HashSet<string> Universal = new(StringComparer.Ordinal)
    {
        "/", "^/", ".", "^.", ".*", "^.*", ".*$", "^.*$", ".+", "^.+", ".+$", "^.+$", "$", "^",
    };

    /// <summary>Reads <paramref name="pattern"/> (a regex location's).</summary>
    /// <remarks>
    /// <see cref="Anchor"/>: every path the regex matches starts with it (case-insensitively for <c>~*</c>).
    /// <see cref="Covers"/>: the regex matches every path that starts with it (ordinal), or null.
    /// <see cref="Only"/>: the one path the regex matches (<c>~</c> only), or null.
    /// </remarks>
    public static RegexShape Of(LocationPattern pattern)
    {
        var caseInsensitive = pattern.Kind == LocationKind.RegexCaseInsensitive;
        var text = pattern.Pattern;
        if (Universal.Contains(text))
        {
            return new RegexShape(caseInsensitive, "/", "", null);
        }

        if (text.Length == 0 || text[0] != '^' || text.Contains('|', StringComparison.Ordinal))
        {
            return new RegexShape(caseInsensitive, "/", null, null);
        }

        var literal = new System.Text.StringBuilder();
        var i = 1;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\\' && i + 1 < text.Length && !char.IsAsciiLetterOrDigit(text[i + 1]))
            {
                literal.Append(text[i + 1]);
                i += 2;
                continue;
            }

            if (c == '\\' || ".$^{}[]()|*+?".Contains(c, StringComparison.Ordinal))
            {
                break;
            }

            literal.Append(c);
            i++;
        }

        var rest = text[i..];
        if (literal.Length > 0 && rest.Length > 0 && rest[0] is '*' or '?' or '{')
        {
            // The quantifier may take the last character away ("^/ab?" matches "/a").
            literal.Length--;
            rest = "?";
        }

        var anchor = literal.ToString();
        var covers = rest is "" or ".*" or ".*$" ? anchor : null;
        var only = rest == "$" && !caseInsensitive ? anchor : null;
        return new RegexShape(caseInsensitive, anchor.StartsWith('/') ? anchor : "/", covers, only);
    }

    /// <summary>Whether every path this regex matches starts with <paramref name="prefix"/> (ordinal).</summary>
    public bool OnlyUnder(string prefix) =>
        Anchor.StartsWith(prefix, StringComparison.Ordinal) && (!CaseInsensitive || !HasLetter(prefix));

    /// <summary>
    /// Whether <paramref name="text"/> has a character a case-insensitive regex may match in another form:
    /// an ASCII letter, or any non-ASCII character (case folding reaches beyond ASCII: 'k' and the Kelvin sign).
    /// </summary>
    public static bool HasLetter(string text)
    {
        foreach (var c in text)
        {
            if (char.IsAsciiLetter(c) || !char.IsAscii(c))
            {
                return true;
            }
        }

        return false;
    }
}
