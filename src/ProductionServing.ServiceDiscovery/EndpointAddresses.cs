using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ServiceDiscovery;

namespace ProductionServing.ServiceDiscovery;

/// <summary>Turns resolved <see cref="ServiceEndpoint"/>s into the servers' base URLs, with the <c>Discover</c> URL's scheme.</summary>
internal static class EndpointAddresses
{
    /// <summary>
    /// The base URLs of <paramref name="endpoints"/>, once each, sorted: DNS servers rotate the order of their
    /// answers (round-robin records), and a new order of the same servers must not read as a change. An endpoint
    /// without a port (a pass-through name) gets the scheme's default port; an endpoint of another kind is logged
    /// and left out.
    /// </summary>
    public static List<Uri> From(string discover, IReadOnlyList<ServiceEndpoint> endpoints, ILogger logger)
    {
        // The scheme is ProductionServing's to choose (an https Pass speaks TLS to every server), so a
        // discovered endpoint's own scheme, if any, is not used: only its host and port.
        var scheme = new Uri(discover).Scheme;
        var addresses = new List<Uri>(endpoints.Count);
        foreach (var endpoint in endpoints)
        {
            (string Host, int Port)? target = endpoint.EndPoint switch
            {
                IPEndPoint ip => (ip.Address.ToString(), ip.Port),
                DnsEndPoint dns => (dns.Host, dns.Port),
                UriEndPoint uri => (uri.Uri.Host, uri.Uri.IsDefaultPort ? 0 : uri.Uri.Port),
                _ => null,
            };
            if (target is not { } found)
            {
                DiscoveryLog.SkippedEndpoint(logger, discover, endpoint.ToString() ?? "");
                continue;
            }

            var builder = new UriBuilder(scheme, found.Host, found.Port > 0 ? found.Port : -1);
            var address = new Uri(builder.Uri.GetLeftPart(UriPartial.Authority));
            if (!addresses.Contains(address))
            {
                addresses.Add(address);
            }
        }

        addresses.Sort(static (x, y) => string.CompareOrdinal(x.AbsoluteUri, y.AbsoluteUri));
        return addresses;
    }
}
