using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// nginx's smooth weighted round robin (ngx_http_upstream_get_peer): every pick adds each candidate's
/// weight to its running score, takes the highest (the first in configuration order on a tie), and
/// subtracts the total from the winner. Weights 5:1:1 give a a b a c a a, never a burst of five; the
/// order is deterministic, and over any run of sum-of-weights picks each server gets exactly its weight.
/// </summary>
/// <remarks>
/// Servers that cannot take the request (down, at <c>MaxConnections</c>, already tried) are skipped and
/// their scores left alone, as nginx does, so the others keep their smooth order among themselves.
/// </remarks>
internal sealed class RoundRobinBalancer(UpstreamServer[] servers) : Balancer(servers)
{
    private readonly Lock _lock = new();
    private readonly int[] _scores = new int[servers.Length];

    public override BalancingPolicy Policy => BalancingPolicy.RoundRobin;

    public override bool TryPeek(string path, long now, out UpstreamServer? server)
    {
        var servers = Servers;
        lock (_lock)
        {
            var best = -1;
            var bestScore = 0;
            for (var i = 0; i < servers.Length; i++)
            {
                if (IsCandidate(servers[i], null, now) && (best < 0 || _scores[i] + servers[i].Weight > bestScore))
                {
                    best = i;
                    bestScore = _scores[i] + servers[i].Weight;
                }
            }

            server = best < 0 ? null : servers[best];
            return true;
        }
    }

    public override UpstreamServer? Pick(HttpContext context, string path, List<UpstreamServer>? tried, long now)
    {
        var servers = Servers;
        if (servers.Length == 1)
        {
            return IsCandidate(servers[0], tried, now) ? servers[0] : null;
        }

        lock (_lock)
        {
            var best = -1;
            var total = 0;
            for (var i = 0; i < servers.Length; i++)
            {
                var server = servers[i];
                if (!IsCandidate(server, tried, now))
                {
                    continue;
                }

                _scores[i] += server.Weight;
                total += server.Weight;
                if (best < 0 || _scores[i] > _scores[best])
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return null;
            }

            _scores[best] -= total;
            return servers[best];
        }
    }
}
