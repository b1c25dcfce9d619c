using Microsoft.Extensions.DependencyInjection.Extensions;
using ProductionServing.Discovery;
using ProductionServing.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers discovered upstream servers for ProductionServing.</summary>
public static class ProductionServingServiceDiscoveryServiceCollectionExtensions
{
    /// <summary>
    /// Lets an upstream's <c>Discover</c> URL (<c>"Discover": "http://catalog"</c>) find its servers through
    /// Microsoft.Extensions.ServiceDiscovery, refreshed while serving.
    /// </summary>
    /// <param name="services">The service collection to add to.</param>
    /// <returns>The same service collection, for chaining.</returns>
    /// <remarks>
    /// Calls <c>services.AddServiceDiscovery()</c>, which resolves a name from configuration
    /// (<c>Services:catalog:http:0</c> = <c>127.0.0.1:8080</c>, the section following reloads) and otherwise
    /// passes it through as a DNS name at the scheme's default port (a Kubernetes service name). Other
    /// providers (DNS SRV in <c>Microsoft.Extensions.ServiceDiscovery.Dns</c>) are added with their own calls,
    /// before or after this one. Independent of the order of <c>AddProductionServing(...)</c>.
    /// </remarks>
    public static IServiceCollection AddProductionServingServiceDiscovery(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddServiceDiscovery();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IUpstreamDiscovery, ServiceEndpointDiscovery>();
        return services;
    }
}
