namespace ProductionServing;

/// <summary>
/// Active health probes for the servers of an upstream group: the <c>HealthCheck</c> object of an
/// entry in <c>Upstreams</c> (<see cref="UpstreamOptions.HealthCheck"/>).
/// </summary>
/// <remarks>
/// Not to be confused with ASP.NET Core's <c>Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions</c>,
/// which configures the app's own health endpoint (<c>MapHealthChecks</c>); these probes check the
/// upstream servers that <c>Proxy</c> locations forward to.
/// </remarks>
public sealed class UpstreamHealthCheckOptions
{
    /// <summary>The path requested with GET on each server; a 2xx or 3xx answer is healthy. Default: <c>/</c>.</summary>
    public string Path { get; set; } = "/";

    /// <summary>Time between probes of one server. Default: 5 seconds.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a probe may take before it counts as a failure. Default: 2 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);
}
