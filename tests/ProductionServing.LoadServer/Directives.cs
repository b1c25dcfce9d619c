using System.Globalization;
using ProductionServing;

namespace ProductionServing.LoadServer;

/// <summary>
/// The location directives a load run can put on the static location (<c>--compress true</c>,
/// <c>--headers n</c>, <c>--allow n</c>, <c>--rate-limit true</c>).
/// </summary>
internal static class Directives
{
    private static readonly (string Name, string Value)[] Headers =
    [
        ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
    ];

    public static LocationOptions Apply(LocationOptions location, IConfiguration configuration)
    {
        location.Compress = configuration["compress"] == "true" ? new CompressOptions() : null;
        if (Count(configuration, "headers") is var headers and > 0)
        {
            for (var i = 0; i < Math.Min(headers, Headers.Length); i++)
            {
                location.Headers[Headers[i].Name] = Headers[i].Value;
            }
        }

        if (Count(configuration, "allow") is var networks and > 0)
        {
            // Networks the loopback client is in none of, then its own last: every entry is tried.
            var allow = new List<string>(networks);
            for (var i = 1; i < networks; i++)
            {
                allow.Add(i % 2 == 0 ? $"10.{i}.0.0/16" : $"fd00:{i:x}::/32");
            }

            allow.Add("127.0.0.0/8");
            location.Allow = allow;
        }

        // A rate no load on this machine reaches: every request finds its bucket full, the costliest
        // admitted path (a token taken, nothing queued).
        location.RateLimit = configuration["rate-limit"] == "true" ? new RateLimitOptions { Rate = "10000000r/s", Burst = 20 } : null;
        return location;
    }

    private static int Count(IConfiguration configuration, string key) =>
        int.TryParse(configuration[key], NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;
}
