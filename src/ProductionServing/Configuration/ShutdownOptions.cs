namespace ProductionServing;

/// <summary>What happens when the host stops (SIGTERM, Ctrl+C, <c>StopAsync</c>).</summary>
public sealed class ShutdownOptions
{
    /// <summary>
    /// How long new requests are still served after the host begins stopping, while the
    /// <c>productionserving-shutdown</c> health check already reports Unhealthy: the time a load balancer
    /// (a Kubernetes Service, a cloud load balancer) needs to see the failed readiness and stop sending
    /// requests. Then the server stops accepting and the pools drain. It counts towards the host's
    /// <c>ShutdownTimeout</c>, which must leave room for the drain after it. Default: zero (stop at once).
    /// </summary>
    public TimeSpan DrainDelay { get; set; }
}
