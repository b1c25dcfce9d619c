using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ProductionServing.Health;

/// <summary>
/// <c>productionserving-shutdown</c>: Unhealthy from the moment the host begins stopping, so a readiness
/// probe takes the instance out of its load balancer while <see cref="ShutdownOptions.DrainDelay"/> keeps
/// serving the requests still sent to it.
/// </summary>
internal sealed class ShutdownHealthCheck(ServingShutdown shutdown) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(shutdown.IsStopping ? HealthCheckResult.Unhealthy("The host is stopping.") : HealthCheckResult.Healthy());
}
