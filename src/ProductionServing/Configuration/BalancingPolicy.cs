namespace ProductionServing;

/// <summary>How an upstream group chooses a server for each request.</summary>
public enum BalancingPolicy
{
    /// <summary>nginx's smooth weighted round robin, in a deterministic order.</summary>
    RoundRobin,

    /// <summary>The server with the fewest requests in flight (weighted).</summary>
    LeastRequests,

    /// <summary>The less busy of two servers picked at random.</summary>
    PowerOfTwoChoices,

    /// <summary>Consistent hashing on <see cref="UpstreamOptions.HashKey"/>.</summary>
    Hash,
}
