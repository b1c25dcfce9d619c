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
}
