using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// Chooses the server for a request among one tier of a group (its primaries, or its backups). Only
/// servers that are up, have capacity and were not tried already by this request are candidates.
/// </summary>
internal abstract class Balancer
{
    protected Balancer(UpstreamServer[] servers) => Servers = servers;

    /// <summary>The tier this balancer chooses from, in configuration order.</summary>
    protected UpstreamServer[] Servers { get; }

    /// <summary>Builds the policy's balancer over <paramref name="servers"/>.</summary>
    public static Balancer Create(UpstreamOptions options, UpstreamServer[] servers) => options.Balancing switch
    {
        BalancingPolicy.LeastRequests => new LeastRequestsBalancer(servers),
        BalancingPolicy.PowerOfTwoChoices => new PowerOfTwoChoicesBalancer(servers),
        BalancingPolicy.Hash => new HashBalancer(servers, HashKey.Parse(options.HashKey!)),
        _ => new RoundRobinBalancer(servers),
    };

    /// <summary>The chosen server, or null when no server of the tier can take the request now.</summary>
    /// <param name="context">The request (the hash key reads it).</param>
    /// <param name="path">The request's normalized path (<c>$uri</c>).</param>
    /// <param name="tried">Servers this request already failed on; null on the first attempt.</param>
    /// <param name="now">A <see cref="TimeProvider"/> timestamp.</param>
    public abstract UpstreamServer? Pick(HttpContext context, string path, List<UpstreamServer>? tried, long now);

    /// <summary>Whether <paramref name="server"/> can take this request now.</summary>
    protected static bool IsCandidate(UpstreamServer server, List<UpstreamServer>? tried, long now) =>
        server.IsUp(now) && server.HasCapacity && (tried is null || !tried.Contains(server));
}
