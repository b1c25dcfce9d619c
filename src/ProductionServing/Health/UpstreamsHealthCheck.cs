using Microsoft.Extensions.Diagnostics.HealthChecks;
using ProductionServing.Proxy;

namespace ProductionServing.Health;

/// <summary>
/// <c>productionserving-upstreams</c>: Unhealthy while every server of an upstream group, primaries and
/// backups, is down (its requests get 502 at once); Degraded while some are. Down is what the balancer
/// sees: passive failures (<c>MaxFails</c> within <c>FailTimeout</c>) or a failed active <c>HealthCheck</c>.
/// The data names each such group and its down servers. A discovered group with no server known is as
/// good as one whose servers are all down (its requests get 502), so it is Unhealthy too.
/// </summary>
internal sealed class UpstreamsHealthCheck(UpstreamRegistry upstreams) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = upstreams.Time.GetTimestamp();
        Dictionary<string, object>? data = null;
        List<string>? dead = null;
        foreach (var group in upstreams.Groups)
        {
            List<string>? down = null;
            var servers = group.Servers;
            if (servers.Count == 0)
            {
                (data ??= new Dictionary<string, object>(StringComparer.Ordinal))[group.Name] = "no server discovered";
                (dead ??= []).Add(group.Name);
                continue;
            }

            foreach (var server in servers)
            {
                if (!server.IsUp(now))
                {
                    (down ??= []).Add(server.Name);
                }
            }

            if (down is null)
            {
                continue;
            }

            (data ??= new Dictionary<string, object>(StringComparer.Ordinal))[group.Name] = "down: " + string.Join(", ", down);
            if (down.Count == servers.Count)
            {
                (dead ??= []).Add(group.Name);
            }
        }

        return Task.FromResult(data is null ? HealthCheckResult.Healthy()
            : dead is not null ? HealthCheckResult.Unhealthy($"Every server down: upstream {string.Join(", ", dead)}.", data: data)
            : HealthCheckResult.Degraded($"Some servers down: upstream {string.Join(", ", data.Keys)}.", data: data));
    }
}
