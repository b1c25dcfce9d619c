namespace ProductionServing.Proxy;

/// <summary>A group's compiled <c>HealthCheck</c>: <c>GET Path</c> on each server every <c>Interval</c>, at most <c>Timeout</c> each.</summary>
internal sealed record HealthProbe(string Path, TimeSpan Interval, TimeSpan Timeout);
