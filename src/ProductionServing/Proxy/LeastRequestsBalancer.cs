using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// nginx's <c>least_conn</c>: the candidate with the fewest requests in flight relative to its weight.
/// Ties go round the servers from a rotating start, so idle servers share the load evenly.
/// </summary>
internal sealed class LeastRequestsBalancer(UpstreamServer[] servers) : Balancer(servers)
{
    private int _start;

    public override UpstreamServer? Pick(HttpContext context, string path, List<UpstreamServer>? tried, long now)
    {
        var servers = Servers;
        var start = (int)((uint)Interlocked.Increment(ref _start) % (uint)servers.Length);
        UpstreamServer? best = null;
        for (var n = 0; n < servers.Length; n++)
        {
            var server = servers[(start + n) % servers.Length];
            if (IsCandidate(server, tried, now) && (best is null || FewerPerWeight(server, best)))
            {
                best = server;
            }
        }

        return best;
    }

    /// <summary>a.active / a.weight &lt; b.active / b.weight, without division.</summary>
    internal static bool FewerPerWeight(UpstreamServer a, UpstreamServer b) =>
        (long)a.ActiveRequests * b.Weight < (long)b.ActiveRequests * a.Weight;
}
