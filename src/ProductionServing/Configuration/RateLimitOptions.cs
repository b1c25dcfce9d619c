namespace ProductionServing;

/// <summary>
/// Request rate limiting per key (nginx <c>limit_req</c>), on <c>System.Threading.RateLimiting</c>.
/// </summary>
/// <remarks>
/// Requests over <see cref="Rate"/> and <see cref="Burst"/> get 429 with <c>Retry-After</c>. The
/// limiters' state is per location, bounded in memory (idle keys are dropped), and kept across a reload
/// that does not change this location's <c>RateLimit</c>.
/// </remarks>
public sealed class RateLimitOptions
{
    /// <summary>The sustained rate per key: <c>Nr/s</c> or <c>Nr/m</c>, such as <c>10r/s</c>. Required.</summary>
    public string? Rate { get; set; }

    /// <summary>Requests admitted beyond the rate at once (nginx's <c>burst</c>). Default: 0.</summary>
    public int Burst { get; set; }

    /// <summary>
    /// What the rate is counted per, a variable template. Default: <c>$remote_addr</c>. A request whose
    /// key expands to an empty string is not limited.
    /// </summary>
    public string Key { get; set; } = "$remote_addr";

    /// <summary>
    /// When <see langword="true"/>, requests within <see cref="Burst"/> wait to be served at the rate
    /// (nginx without <c>nodelay</c>); otherwise they are served at once. Default: <see langword="false"/>.
    /// </summary>
    public bool Delay { get; set; }
}
