using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// nginx's <c>least_conn</c>: the candidate with the fewest requests in flight relative to its weight.
/// Servers that tie share the load by smooth weighted round robin, as nginx's "many" branch does, so
/// sequential requests (always a tie at zero in flight) still follow the weights.
/// </summary>
internal sealed class LeastRequestsBalancer(UpstreamServer[] servers) : Balancer(servers)
{
    private readonly Lock _lock = new();
    private readonly int[] _scores = new int[servers.Length];

    public override BalancingPolicy Policy => BalancingPolicy.LeastRequests;

    public override bool TryPeek(string path, long now, out UpstreamServer? server)
    {
        var servers = Servers;
        var best = -1;
        for (var i = 0; i < servers.Length; i++)
        {
            if (IsCandidate(servers[i], null, now) && (best < 0 || FewerPerWeight(servers[i], servers[best])))
            {
                best = i;
            }
        }

        server = best < 0 ? null : servers[best];
        if (best < 0)
        {
            return true;
        }

        // Ties share by smooth round robin, as in Pick; the scores are read, not changed.
        lock (_lock)
        {
            var least = servers[best];
            var chosen = -1;
            var chosenScore = 0;
            for (var i = best; i < servers.Length; i++)
            {
                var candidate = servers[i];
                if (!IsCandidate(candidate, null, now) || FewerPerWeight(candidate, least) || FewerPerWeight(least, candidate))
                {
                    continue;
                }

                if (chosen < 0 || _scores[i] + candidate.Weight > chosenScore)
                {
                    chosen = i;
                    chosenScore = _scores[i] + candidate.Weight;
                }
            }

            server = servers[chosen < 0 ? best : chosen];
            return true;
        }
    }

    public override UpstreamServer? Pick(HttpContext context, string path, List<UpstreamServer>? tried, long now)
    {
        var servers = Servers;
        var best = -1;
        var many = false;
        for (var i = 0; i < servers.Length; i++)
        {
            var server = servers[i];
            if (!IsCandidate(server, tried, now))
            {
                continue;
            }

            if (best < 0 || FewerPerWeight(server, servers[best]))
            {
                best = i;
                many = false;
            }
            else if (!FewerPerWeight(servers[best], server))
            {
                many = true;
            }
        }

        if (best < 0 || !many)
        {
            return best < 0 ? null : servers[best];
        }

        lock (_lock)
        {
            // Only servers after the first best can tie with it: nginx's second pass starts there too.
            var least = servers[best];
            var chosen = -1;
            var total = 0;
            for (var i = best; i < servers.Length; i++)
            {
                var server = servers[i];
                if (!IsCandidate(server, tried, now) || FewerPerWeight(server, least) || FewerPerWeight(least, server))
                {
                    continue;
                }

                _scores[i] += server.Weight;
                total += server.Weight;
                if (chosen < 0 || _scores[i] > _scores[chosen])
                {
                    chosen = i;
                }
            }

            if (chosen < 0)
            {
                // The counts moved under us: the first pass's answer is as good as any.
                return least;
            }

            _scores[chosen] -= total;
            return servers[chosen];
        }
    }

    /// <summary>a.active / a.weight &lt; b.active / b.weight, without division.</summary>
    internal static bool FewerPerWeight(UpstreamServer a, UpstreamServer b) =>
        (long)a.ActiveRequests * b.Weight < (long)b.ActiveRequests * a.Weight;
}
