using System.Globalization;

namespace ProductionServing.Directives;

/// <summary>
/// A location's <c>RateLimit</c> as the limiter needs it, and what identifies its state across reloads: the
/// location's <c>Match</c> and every setting. A reload that changes none of them keeps the limiter, with what
/// it counted; any change starts a new one.
/// </summary>
/// <param name="Match">The location's <c>Match</c>.</param>
/// <param name="Requests">The rate's number of requests.</param>
/// <param name="PerMinute">Whether the rate is per minute (<c>r/m</c>) rather than per second (<c>r/s</c>).</param>
/// <param name="Burst">Requests admitted beyond the rate.</param>
/// <param name="Key">The key template.</param>
/// <param name="Delay">Whether the excess within <paramref name="Burst"/> waits its turn instead of being served at once.</param>
internal readonly record struct RateLimitSettings(string? Match, int Requests, bool PerMinute, int Burst, string Key, bool Delay)
{
    /// <summary>The highest rate accepted: far above what one process serves, and small enough for the bucket's arithmetic.</summary>
    public const int MaxRequests = 10_000_000;

    /// <summary>The highest burst accepted; the bucket holds it in thousandths of a request in an <see cref="int"/>.</summary>
    public const int MaxBurst = 1_000_000;

    /// <summary>The rate in requests per second.</summary>
    public double PerSecond => PerMinute ? Requests / 60.0 : Requests;

    /// <summary>The settings of a validated <c>RateLimit</c>.</summary>
    public static RateLimitSettings From(string? match, RateLimitOptions options)
    {
        if (!TryParseRate(options.Rate, out var requests, out var perMinute))
        {
            throw new InvalidOperationException($"RateLimit.Rate '{options.Rate}' was not validated.");
        }

        return new RateLimitSettings(match, requests, perMinute, options.Burst, options.Key, options.Delay);
    }

    /// <summary>Parses nginx's rate syntax, <c>Nr/s</c> or <c>Nr/m</c>, N from 1 to <see cref="MaxRequests"/>.</summary>
    /// <param name="rate">The configured rate.</param>
    /// <param name="requests">N.</param>
    /// <param name="perMinute">Whether the unit is <c>r/m</c>.</param>
    /// <returns>Whether <paramref name="rate"/> is a rate.</returns>
    public static bool TryParseRate(string? rate, out int requests, out bool perMinute)
    {
        requests = 0;
        perMinute = false;
        if (rate is null || rate.Length < 4 || rate[^3] != 'r' || rate[^2] != '/' || rate[^1] is not ('s' or 'm'))
        {
            return false;
        }

        perMinute = rate[^1] == 'm';
        return int.TryParse(rate.AsSpan(0, rate.Length - 3), NumberStyles.None, CultureInfo.InvariantCulture, out requests)
            && requests is >= 1 and <= MaxRequests;
    }
}
