namespace ProductionServing.Proxy;

/// <summary>
/// An upstream group's settings, compiled once per configuration from its <see cref="UpstreamOptions"/>
/// (which the request path never reads: they are mutable and belong to the configuration system).
/// </summary>
internal sealed class UpstreamSettings(UpstreamOptions options)
{
    /// <summary>Failed attempts within <see cref="FailTimeout"/> that take a server out; 0 never does.</summary>
    public int MaxFails { get; } = options.MaxFails;

    public TimeSpan FailTimeout { get; } = options.FailTimeout;

    /// <summary>More attempts on other servers after a failure before any response.</summary>
    public int Retries { get; } = options.Retries;

    public TimeSpan ConnectTimeout { get; } = options.ConnectTimeout;

    public TimeSpan ReadTimeout { get; } = options.ReadTimeout;

    /// <summary>Requests that may wait for a server under <c>MaxConnections</c>; 0: none.</summary>
    public int QueueLimit { get; } = options.QueueLimit;

    public TimeSpan QueueTimeout { get; } = options.QueueTimeout;

    /// <summary>The active health probe, or <see langword="null"/> for passive health only.</summary>
    public HealthProbe? HealthCheck { get; } = options.HealthCheck is { } check ? new HealthProbe(check.Path, check.Interval, check.Timeout) : null;
}
