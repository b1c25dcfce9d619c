using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.ServiceDiscovery;
using ProductionServing.ServiceDiscovery;

namespace ProductionServing.Tests.ServiceDiscovery;

/// <summary>Resolved endpoints become server base URLs with the Discover URL's scheme.</summary>
public sealed class EndpointAddressesTests
{
    public static TheoryData<string, EndPoint, string> Endpoints => new()
    {
        { "http://catalog", new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8080), "http://10.0.0.1:8080/" },
        { "https://catalog", new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8443), "https://10.0.0.1:8443/" },
        { "http://catalog", new IPEndPoint(IPAddress.Parse("fd00::1"), 8080), "http://[fd00::1]:8080/" },
        { "http://catalog", new DnsEndPoint("catalog.shop.svc", 8080), "http://catalog.shop.svc:8080/" },
        // A pass-through name has no port: the scheme's default.
        { "http://catalog", new DnsEndPoint("catalog", 0), "http://catalog/" },
        { "https://catalog", new DnsEndPoint("catalog", 0), "https://catalog/" },
        // A URL endpoint gives its host and port; the scheme stays the Discover URL's.
        { "http://catalog", new UriEndPoint(new Uri("https://10.0.0.2:9000/path")), "http://10.0.0.2:9000/" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public void Endpoint_BecomesTheServersBaseUrl(string discover, EndPoint endpoint, string expected)
    {
        var addresses = EndpointAddresses.From(discover, [ServiceEndpoint.Create(endpoint)], NullLogger.Instance);

        Assert.Equal(expected, Assert.Single(addresses).ToString());
    }

    [Fact]
    public void TheSameServerTwice_IsListedOnce_AndTheServersAreSorted()
    {
        ServiceEndpoint[] endpoints =
        [
            ServiceEndpoint.Create(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 80)),
            ServiceEndpoint.Create(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 80)),
            ServiceEndpoint.Create(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 80)),
        ];

        var addresses = EndpointAddresses.From("http://catalog", endpoints, NullLogger.Instance);

        Assert.Equal(["http://10.0.0.1/", "http://10.0.0.2/"], addresses.Select(a => a.ToString()));
        Assert.Equal(addresses, EndpointAddresses.From("http://catalog", [.. endpoints.Reverse()], NullLogger.Instance));
    }
}
