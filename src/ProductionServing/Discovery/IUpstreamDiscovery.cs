namespace ProductionServing.Discovery;

/// <summary>
/// Finds the servers of an upstream that names them with <see cref="UpstreamOptions.Discover"/> instead of
/// listing <see cref="UpstreamOptions.Servers"/>. For companion packages: the application registers an
/// implementation with the companion's own call (<c>services.AddProductionServingServiceDiscovery()</c> in
/// <c>ProductionServing.ServiceDiscovery</c>), not by hand.
/// </summary>
/// <remarks>
/// ProductionServing asks when it compiles a configuration and again each time the answer's
/// <see cref="DiscoveredEndpoints.ChangeToken"/> fires; it then rebuilds the upstream groups as a
/// configuration reload does, so servers that stay keep their health and connections. Calls come from
/// the configuration's compile, never from the request path, and hold it up while they run: answer with
/// what is known now (nothing, while a slow first resolution is under way; the group then answers 502)
/// and fire the token when it changes. A short, bounded wait for a name's first answer is fine.
/// </remarks>
public interface IUpstreamDiscovery
{
    /// <summary>The servers known now for <paramref name="discover"/>, and a token that fires when they change.</summary>
    /// <param name="discover">The upstream's <see cref="UpstreamOptions.Discover"/> URL as configured, for example <c>http://catalog</c>.</param>
    /// <returns>The current servers (possibly none) and the token that signals a change.</returns>
    DiscoveredEndpoints GetEndpoints(string discover);
}
