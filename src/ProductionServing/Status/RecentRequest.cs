using ProductionServing.Diagnostics;

namespace ProductionServing.Status;

/// <summary>
/// One request as the status page lists it under "slowest" and "failed": enough to go from a spike to
/// its trace (path, status, where the time went, the upstream servers tried, the trace id).
/// </summary>
/// <param name="Timestamp">When it ended, a timestamp of the host's <see cref="TimeProvider"/> (for expiry).</param>
/// <param name="Time">When it ended, wall-clock time.</param>
/// <param name="Location">The <c>Match</c> of the location that served it, or null when none matched.</param>
/// <param name="Method">The request method.</param>
/// <param name="Path">The path the client asked for (without the query, which may carry secrets), at most <see cref="MaxPathLength"/> characters.</param>
/// <param name="StatusCode">The response status.</param>
/// <param name="ErrorType">The request's <c>error.type</c>, or null.</param>
/// <param name="DurationTicks">Its duration in <see cref="TimeProvider"/> timestamp units (for ranking).</param>
/// <param name="DurationMs">Its duration in milliseconds.</param>
/// <param name="QueueMs">Its wait in a pool's queue in milliseconds, or null when it went through no pool.</param>
/// <param name="Upstream">The upstream attempts, oldest first, with their times in milliseconds.</param>
/// <param name="TraceId">The W3C trace id of the request's activity, or null when it had none.</param>
internal sealed record RecentRequest(long Timestamp, DateTimeOffset Time, string? Location, string Method, string Path, int StatusCode,
    string? ErrorType, long DurationTicks, double DurationMs, double? QueueMs, RecentAttempt[] Upstream, string? TraceId)
{
    public const int MaxPathLength = 256;
}

/// <summary>One upstream attempt of a <see cref="RecentRequest"/> (nginx's <c>$upstream_*</c> values for one server).</summary>
/// <param name="Server">The server's address.</param>
/// <param name="StatusCode">Its status, or null when it sent none.</param>
/// <param name="ConnectMs">Time to connect, 0 for a reused connection.</param>
/// <param name="HeaderMs">Time to the response headers, or null when none came.</param>
/// <param name="TotalMs">The attempt's whole time.</param>
/// <param name="ErrorType">Why it failed, or null.</param>
internal sealed record RecentAttempt(string Server, int? StatusCode, double ConnectMs, double? HeaderMs, double TotalMs, string? ErrorType)
{
    /// <summary>Converts an attempt of the request record (times in <see cref="TimeProvider"/> timestamp units).</summary>
    public static RecentAttempt From(in UpstreamAttempt attempt, double msPerTick) => new(
        attempt.Server,
        attempt.StatusCode == 0 ? null : attempt.StatusCode,
        attempt.ConnectTicks * msPerTick,
        attempt.HeaderTicks < 0 ? null : attempt.HeaderTicks * msPerTick,
        attempt.TotalTicks * msPerTick,
        attempt.ErrorType);
}
