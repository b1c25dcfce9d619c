using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// Two random candidates, the one with fewer requests in flight (relative to weight) wins: nearly the
/// balance of LeastRequests without looking at every server (Mitzenmacher, "The Power of Two Choices
/// in Randomized Load Balancing", 2001; YARP's default policy). Weights scale the comparison, so they
/// matter only under load: idle servers tie and the first draw wins, which is uniform.
/// </summary>
internal sealed class PowerOfTwoChoicesBalancer(UpstreamServer[] servers) : Balancer(servers)
{
    public override BalancingPolicy Policy => BalancingPolicy.PowerOfTwoChoices;

    public override UpstreamServer? Pick(HttpContext context, string path, List<UpstreamServer>? tried, long now)
    {
        var servers = Servers;
        if (servers.Length == 1)
        {
            return IsCandidate(servers[0], tried, now) ? servers[0] : null;
        }

        var first = Random.Shared.Next(servers.Length);
        var second = (first + 1 + Random.Shared.Next(servers.Length - 1)) % servers.Length;
        var a = servers[first];
        var b = servers[second];
        var aOk = IsCandidate(a, tried, now);
        var bOk = IsCandidate(b, tried, now);
        if (aOk && bOk)
        {
            return LeastRequestsBalancer.FewerPerWeight(b, a) ? b : a;
        }

        if (aOk || bOk)
        {
            return aOk ? a : b;
        }

        // Both draws were out: the best of the rest, so a healthy server is never missed.
        UpstreamServer? best = null;
        for (var i = 0; i < servers.Length; i++)
        {
            var server = servers[i];
            if (IsCandidate(server, tried, now) && (best is null || LeastRequestsBalancer.FewerPerWeight(server, best)))
            {
                best = server;
            }
        }

        return best;
    }
}
