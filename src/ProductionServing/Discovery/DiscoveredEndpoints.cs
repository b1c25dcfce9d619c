using Microsoft.Extensions.Primitives;

namespace ProductionServing.Discovery;

/// <summary>What an <see cref="IUpstreamDiscovery"/> knows of one <see cref="UpstreamOptions.Discover"/> name now.</summary>
public sealed class DiscoveredEndpoints
{
    /// <summary>Creates an answer.</summary>
    /// <param name="addresses">The servers' base URLs (<c>scheme://host:port</c>, no path); empty when none is known.</param>
    /// <param name="changeToken">Fires when <paramref name="addresses"/> may have changed.</param>
    public DiscoveredEndpoints(IReadOnlyList<Uri> addresses, IChangeToken changeToken)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentNullException.ThrowIfNull(changeToken);
        Addresses = addresses;
        ChangeToken = changeToken;
    }

    /// <summary>
    /// The servers' base URLs (<c>scheme://host:port</c>; a path is ignored), in a stable order. Empty while the
    /// name is not resolved yet or has no endpoints: the upstream's requests then get 502 (no live server).
    /// </summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>
    /// Fires when <see cref="Addresses"/> may have changed; ProductionServing then asks again. It must call
    /// back (<see cref="IChangeToken.ActiveChangeCallbacks"/>): a token that can only be polled is never seen to fire.
    /// </summary>
    public IChangeToken ChangeToken { get; }
}
