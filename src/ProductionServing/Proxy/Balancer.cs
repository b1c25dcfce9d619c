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

    /// <summary>
    /// The server <see cref="Pick"/> would choose for the next request to <paramref name="path"/>, if no
    /// other request came first, without changing the balancer's state (the status page's <c>match</c>
    /// answer; never on the request path). False when that cannot be told: a random draw, or a key taken
    /// from a request that does not exist here (an address, a header, a cookie).
    /// </summary>
    /// <param name="path">The normalized path.</param>
    /// <param name="now">A <see cref="TimeProvider"/> timestamp.</param>
    /// <param name="server">The server, or null when no server of the tier could take the request.</param>
    /// <returns>Whether the choice is determined.</returns>
    public virtual bool TryPeek(string path, long now, out UpstreamServer? server)
    {
        server = null;
        return false;
    }

    /// <summary>The policy's name as configured (<see cref="BalancingPolicy"/>).</summary>
    public abstract BalancingPolicy Policy { get; }

    /// <summary>Whether <paramref name="server"/> can take this request now.</summary>
    protected static bool IsCandidate(UpstreamServer server, List<UpstreamServer>? tried, long now) =>
        server.IsUp(now) && server.HasCapacity && (tried is null || !tried.Contains(server));
}
