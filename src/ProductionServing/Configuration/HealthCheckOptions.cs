namespace ProductionServing;

/// <summary>Active health probes for the servers of an upstream group.</summary>
public sealed class HealthCheckOptions
{
    /// <summary>The path requested with GET on each server; a 2xx or 3xx answer is healthy. Default: <c>/</c>.</summary>
    public string Path { get; set; } = "/";

    /// <summary>Time between probes of one server. Default: 5 seconds.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a probe may take before it counts as a failure. Default: 2 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);
}
