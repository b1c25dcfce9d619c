using System.Text;

namespace QuickStart;

/// <summary>The URLs worth trying, one per capability, and what each shows: printed at startup and answered at <c>/</c>.</summary>
internal static class Tries
{
    /// <summary>Each URL's path and query, and what it shows; appsettings.json has the locations they select.</summary>
    public static IReadOnlyList<(string Path, string Shows)> All { get; } =
    [
        ("/", "this list, from the app: no location matches /, so the app answers through the default pool"),
        ("/healthz", "an exact location (= /healthz) the app answers outside any pool, so it answers even when the pools are full"),
        ("/ready", "readiness: the health checks AddHealthChecks().AddProductionServing() adds (pools, upstreams, shutdown), outside any pool"),
        ("/api/hello", "the app through the default pool; Headers adds X-Request-Id ($request_id) and Cache-Control, Compress encodes it for clients that accept br or gzip (curl --compressed)"),
        ("/reports/2026.csv", "a regex location (~* \\.(csv|xlsx)$), which the app sees as ServingLocation"),
        ("/r/2026", "Return: 302 to /reports/2026.csv, built from the regex capture $1 (nginx's return)"),
        ("/assets/site.css", "a static file, with Cache-Control: public, max-age=31536000, immutable"),
        ("/download/report.txt?key=demo", "X-Accel-Redirect: the app checks the key, the internal static location /protected/ sends files/report.txt"),
        ("/download/report.txt", "403: without the key the app refuses"),
        ("/protected/report.txt", "404: an internal location is not for clients"),
        ("/proxied/hello", "Proxy: forwarded to the upstream 'self' (this app again) as /api/hello, as nginx's proxy_pass http://self/api/ would"),
        ("/blocking/200", "blocking code (Thread.Sleep) on a dedicated thread of the 'blocking' pool, never on the thread pool"),
        ("/limited", "RateLimit: one request a minute per client; ask again at once for a 429 with Retry-After"),
        ("/_serving", "the live status page: pools, upstreams, cache, requests by location, recent errors (from this machine only)"),
        ("/_serving/match?path=/reports/2026.csv", "which location a path selects, and why"),
    ];

    /// <summary>
    /// The address to print: the first <c>http</c> one the server bound (else the first), with a wildcard host
    /// (<c>0.0.0.0</c>, <c>[::]</c>, <c>+</c>, <c>*</c>) as <c>localhost</c>, since a browser cannot open those.
    /// </summary>
    public static string BaseAddress(ICollection<string> bound)
    {
        ArgumentNullException.ThrowIfNull(bound);
        var chosen = bound.FirstOrDefault(static a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            ?? bound.FirstOrDefault()
            ?? "http://localhost:5000";
        var uri = new Uri(chosen.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        var host = uri.Host is "0.0.0.0" or "[::]" ? "localhost" : uri.Host;
        return $"{uri.Scheme}://{host}:{uri.Port}";
    }

    /// <summary>One line per URL: <paramref name="baseAddress"/> and the path, then what it shows.</summary>
    public static string Format(string baseAddress)
    {
        var width = 0;
        foreach (var (path, _) in All)
        {
            width = Math.Max(width, baseAddress.Length + path.Length);
        }

        var text = new StringBuilder();
        foreach (var (path, shows) in All)
        {
            text.Append('\n').Append("  ").Append((baseAddress + path).PadRight(width)).Append("  ").Append(shows);
        }

        return text.ToString();
    }
}
