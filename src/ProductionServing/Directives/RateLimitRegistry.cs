namespace ProductionServing.Directives;

/// <summary>
/// The locations' rate limiters, kept across reloads: a location whose <c>Match</c> and <c>RateLimit</c> did
/// not change keeps its limiter and what it counted, so a reload does not hand every client a fresh burst.
/// A limiter the new configuration no longer uses is disposed: its sweep stops and its buckets go; a
/// request still waiting in it goes on, as the new limiter would start with full buckets too.
/// </summary>
/// <remarks>
/// Builds are not concurrent (the configuration holder compiles one at a time), and <see cref="Build"/> runs
/// when nothing else in the build can fail, so what it retires is never needed again.
/// </remarks>
internal sealed class RateLimitRegistry
{
    private readonly Lock _lock = new();
    private Dictionary<RateLimitSettings, RequestRateLimit> _inForce = [];

    /// <summary>
    /// The limiter of each location of a configuration (null where it has no <c>RateLimit</c>): the one in force
    /// for the same settings, or a new one. The limiters no longer used are disposed.
    /// </summary>
    /// <param name="limits">Each location's settings and parsed key, or null.</param>
    /// <returns>The limiters, in the order of <paramref name="limits"/>.</returns>
    public RequestRateLimit?[] Build(IReadOnlyList<(RateLimitSettings Settings, VariableTemplate Key)?> limits)
    {
        var built = new RequestRateLimit?[limits.Count];
        var next = new Dictionary<RateLimitSettings, RequestRateLimit>();
        Dictionary<RateLimitSettings, RequestRateLimit> retired;
        lock (_lock)
        {
            for (var i = 0; i < limits.Count; i++)
            {
                if (limits[i] is not { } limit)
                {
                    continue;
                }

                var settings = limit.Settings;
                if (!next.TryGetValue(settings, out var limiter))
                {
                    limiter = _inForce.Remove(settings, out var kept) ? kept : new RequestRateLimit(settings, limit.Key);
                    next.Add(settings, limiter);
                }

                built[i] = limiter;
            }

            retired = _inForce;
            _inForce = next;
        }

        foreach (var limiter in retired.Values)
        {
            limiter.Dispose();
        }

        return built;
    }

    /// <summary>The host stops: every limiter stops its sweep.</summary>
    public void Clear() => Build([]);
}
