namespace ProductionServing.Static;

/// <summary>
/// A compiled nginx <c>try_files</c>: candidates checked in order, then a fallback.
/// </summary>
internal sealed class TryFilesPlan
{
    private TryFilesPlan(string[] candidates, int fallbackStatus, bool fallbackToApp, string? fallbackUri)
    {
        Candidates = candidates;
        FallbackStatus = fallbackStatus;
        FallbackToApp = fallbackToApp;
        FallbackUri = fallbackUri;
    }

    /// <summary>Templates in which <c>$uri</c> stands for the request path; one ending in '/' names a folder.</summary>
    public string[] Candidates { get; }

    /// <summary>For <c>=CODE</c>, the status code; otherwise 0.</summary>
    public int FallbackStatus { get; }

    /// <summary>For <c>@app</c>: hand the request to the app.</summary>
    public bool FallbackToApp { get; }

    /// <summary>For a path: an internal redirect to that path (<c>$uri</c> substituted).</summary>
    public string? FallbackUri { get; }

    /// <summary>Compiles validated entries; null when there are none.</summary>
    public static TryFilesPlan? Compile(IList<string> entries)
    {
        if (entries.Count == 0)
        {
            return null;
        }

        var candidates = new string[entries.Count - 1];
        for (var i = 0; i < candidates.Length; i++)
        {
            candidates[i] = entries[i];
        }

        var last = entries[^1];
        return last[0] switch
        {
            '=' => new TryFilesPlan(candidates, int.Parse(last.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture), false, null),
            '@' => new TryFilesPlan(candidates, 0, true, null),
            _ => new TryFilesPlan(candidates, 0, false, last),
        };
    }

    /// <summary>A template with <c>$uri</c> replaced by the request path.</summary>
    public static string Expand(string template, string path) =>
        template == "$uri" ? path : template.Replace("$uri", path, StringComparison.Ordinal);

    /// <summary>
    /// The fallback path with <c>$uri</c>, <c>$args</c> and <c>$is_args</c> replaced in one pass (so a request path
    /// or query that itself contains "$args" is not expanded again): nginx's <c>try_files $uri /index.php?$args</c>
    /// and <c>/index.php$is_args$args</c> are how an internal redirect keeps the request's query.
    /// </summary>
    /// <param name="template">The last entry.</param>
    /// <param name="path">The request path.</param>
    /// <param name="query">The request's query without its '?'; empty for none.</param>
    public static string ExpandFallback(string template, string path, string query)
    {
        if (!template.Contains('$', StringComparison.Ordinal))
        {
            return template;
        }

        var result = new System.Text.StringBuilder(template.Length + path.Length + query.Length);
        var i = 0;
        while (i < template.Length)
        {
            var rest = template.AsSpan(i);
            if (rest.StartsWith("$uri", StringComparison.Ordinal))
            {
                result.Append(path);
                i += "$uri".Length;
            }
            else if (rest.StartsWith("$args", StringComparison.Ordinal))
            {
                result.Append(query);
                i += "$args".Length;
            }
            else if (rest.StartsWith("$is_args", StringComparison.Ordinal))
            {
                result.Append(query.Length == 0 ? "" : "?");
                i += "$is_args".Length;
            }
            else
            {
                result.Append(template[i++]);
            }
        }

        return result.ToString();
    }
}
