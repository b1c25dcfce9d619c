namespace ProductionServing.Routing;

/// <summary>A parsed <see cref="LocationOptions.Match"/>: its modifier and pattern.</summary>
internal readonly record struct LocationPattern(LocationKind Kind, string Pattern)
{
    public bool IsRegex => Kind is LocationKind.Regex or LocationKind.RegexCaseInsensitive;

    /// <summary>
    /// Parses <c>[modifier] pattern</c> as nginx's <c>location</c> directive does: the modifier is
    /// <c>=</c>, <c>^~</c>, <c>~</c> or <c>~*</c>, either followed by whitespace or written against the
    /// pattern (<c>=/exact</c>, which nginx also accepts).
    /// </summary>
    public static bool TryParse(string? match, out LocationPattern pattern, out string problem)
    {
        pattern = default;
        problem = "";
        var text = match?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            problem = "is required: '[modifier] pattern', for example '/assets/', '= /healthz' or '~* \\.png$'.";
            return false;
        }

        var space = text.AsSpan().IndexOfAny(' ', '\t');
        string modifier, rest;
        if (text[0] == '/')
        {
            // A plain prefix, which may itself contain spaces ("/my files/").
            modifier = "";
            rest = text;
        }
        else if (space >= 0)
        {
            modifier = text[..space];
            rest = text[space..].TrimStart();
        }
        else
        {
            // nginx also reads a modifier written against its pattern ("=/x", "^~/x", "~*\.png$").
            modifier = text.StartsWith("^~", StringComparison.Ordinal) || text.StartsWith("~*", StringComparison.Ordinal) ? text[..2]
                : text[0] is '=' or '~' ? text[..1]
                : text;
            rest = text[modifier.Length..];
        }

        LocationKind kind;
        switch (modifier)
        {
            case "": kind = LocationKind.Prefix; break;
            case "=": kind = LocationKind.Exact; break;
            case "^~": kind = LocationKind.PrefixNoRegex; break;
            case "~": kind = LocationKind.Regex; break;
            case "~*": kind = LocationKind.RegexCaseInsensitive; break;
            default:
                problem = rest.Length == 0 && space < 0
                    ? $"'{text}' is neither a path starting with '/' nor '[modifier] pattern' (modifiers: =, ^~, ~, ~*)."
                    : $"unknown modifier '{modifier}'; use =, ^~, ~ or ~*.";
                return false;
        }

        if (rest.Length == 0)
        {
            problem = $"modifier '{modifier}' needs a pattern after it.";
            return false;
        }

        if (kind is LocationKind.Prefix or LocationKind.PrefixNoRegex or LocationKind.Exact && rest[0] != '/')
        {
            problem = $"the path '{rest}' must start with '/'.";
            return false;
        }

        pattern = new LocationPattern(kind, rest);
        return true;
    }
}
