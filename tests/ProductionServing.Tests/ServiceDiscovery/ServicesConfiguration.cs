using Microsoft.Extensions.Configuration;

namespace ProductionServing.Tests.ServiceDiscovery;

/// <summary>
/// The <c>Services</c> section Microsoft.Extensions.ServiceDiscovery's configuration provider reads
/// (<c>Services:&lt;name&gt;:http:&lt;index&gt;</c> = <c>host:port</c>), replaced whole and reloaded by
/// <see cref="Set"/> as an edited file would be. An in-memory source cannot drop a key (it keeps it with a null
/// value, which the provider refuses as an invalid endpoint), so a removed server needs a source of its own.
/// </summary>
internal sealed class ServicesConfiguration(string service) : ConfigurationProvider, IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Makes <paramref name="addresses"/> (<c>http://host:port</c>) the service's endpoints, in this order, and reloads.</summary>
    public void Set(params string[] addresses)
    {
        Data.Clear();
        for (var i = 0; i < addresses.Length; i++)
        {
            Data[$"Services:{service}:http:{i}"] = new Uri(addresses[i]).Authority;
        }

        OnReload();
    }

    /// <summary>Replaces the section with one key the configuration provider refuses (a non-numeric index), and reloads.</summary>
    public void SetInvalid()
    {
        Data.Clear();
        Data[$"Services:{service}:http:first"] = "127.0.0.1:1";
        OnReload();
    }

    /// <summary>Adds this source to the host's configuration with <paramref name="addresses"/> (before UseProductionServing resolves them).</summary>
    public static ServicesConfiguration AddTo(IConfigurationBuilder configuration, string service, params string[] addresses)
    {
        var source = new ServicesConfiguration(service);
        source.Set(addresses);
        configuration.Add(source);
        return source;
    }
}
