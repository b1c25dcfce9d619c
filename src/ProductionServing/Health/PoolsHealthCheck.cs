using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ProductionServing.Pools;

namespace ProductionServing.Health;

/// <summary>
/// <c>productionserving-pools</c>: Degraded while a pool turns requests away for want of room (a full
/// queue, a queue timeout, shedding) — within the last <see cref="Window"/>, so one probe between two
/// rejections still sees it — naming each such pool, its last reason, and what it runs and holds.
/// Never Unhealthy: an overloaded instance still serves what it can, and taking it out of a load
/// balancer would only move its load onto the others.
/// </summary>
internal sealed class PoolsHealthCheck(PoolRegistry pools) : IHealthCheck
{
    /// <summary>How recent a rejection keeps the pool reported (twice Kubernetes' default probe period).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(20);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Dictionary<string, object>? data = null;
        foreach (var pool in pools.Pools)
        {
            if (pool.RejectedWithin(Window, out var reason))
            {
                var settings = pool.Settings;
                (data ??= new Dictionary<string, object>(StringComparer.Ordinal))[pool.Name] = string.Create(CultureInfo.InvariantCulture,
                    $"rejecting ({reason}); running {pool.Running} of {settings.Limit}, queued {pool.QueueLength} of {settings.QueueLimit}");
            }
        }

        return Task.FromResult(data is null
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded($"Rejecting requests: pool {string.Join(", ", data.Keys)}.", data: data));
    }
}
