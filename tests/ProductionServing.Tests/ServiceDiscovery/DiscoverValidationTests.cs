using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.ServiceDiscovery;

/// <summary>An upstream's <c>Discover</c> is checked with the rest of the configuration, each failure naming its key.</summary>
public sealed class DiscoverValidationTests
{
    private static readonly Action<IServiceCollection> Companion = static s => s.AddProductionServingServiceDiscovery();

    [Theory]
    [InlineData("""{ "Discover": "http://catalog", "Servers": [ { "Address": "http://127.0.0.1:1" } ] }""", "Upstreams.u.Discover: cannot be combined with Servers; list the servers or discover them, not both.")]
    [InlineData("""{ "Discover": "catalog" }""", "Upstreams.u.Discover: 'catalog' is not an absolute http or https URL, for example 'http://catalog'.")]
    [InlineData("""{ "Discover": "ftp://catalog" }""", "Upstreams.u.Discover: 'ftp://catalog' is not an absolute http or https URL, for example 'http://catalog'.")]
    [InlineData("""{ "Discover": "http://catalog?x=1" }""", "Upstreams.u.Discover: 'http://catalog?x=1' must not have user info, a query or a fragment.")]
    [InlineData("""{ "Discover": "http://catalog:8080" }""", "Upstreams.u.Discover: 'http://catalog:8080' must be scheme://service-name, without a port or a path; the servers' ports come from the discovery.")]
    [InlineData("""{ "Discover": "http://catalog:80" }""", "Upstreams.u.Discover: 'http://catalog:80' must be scheme://service-name, without a port or a path; the servers' ports come from the discovery.")]
    [InlineData("""{ "Discover": "http://catalog/v1" }""", "Upstreams.u.Discover: 'http://catalog/v1' must be scheme://service-name, without a port or a path; the servers' ports come from the discovery.")]
    public void BadDiscover_IsRefused(string upstream, string expected)
    {
        var failures = TestConfig.Failures(ServingJson.Config("", upstreams: $$""" "u": {{upstream}} """), Companion);

        Assert.Contains(expected, failures);
    }

    [Theory]
    [InlineData("http://catalog")]
    [InlineData("https://catalog/")]
    [InlineData("http://catalog.shop.svc.cluster.local")]
    public void Discover_WithTheCompanion_IsAccepted(string discover)
    {
        var json = ServingJson.Config(ServingJson.ProxyLocation("/", "http://u"), upstreams: $$""" "u": { "Discover": "{{discover}}", "MaxFails": 2 } """);

        Assert.Empty(TestConfig.Failures(json, Companion));
    }

    [Fact]
    public void Discover_WithoutTheCompanion_SaysWhatToAdd()
    {
        var json = ServingJson.Config(ServingJson.ProxyLocation("/", "http://u"), upstreams: """ "u": { "Discover": "http://catalog" } """);

        Assert.Equal(
            ["Upstreams.u.Discover: needs service discovery: add the ProductionServing.ServiceDiscovery package and call services.AddProductionServingServiceDiscovery()."],
            TestConfig.Failures(json));
    }

    [Fact]
    public async Task Discover_WithoutTheCompanion_StopsTheHostFromStarting()
    {
        var json = ServingJson.Config(ServingJson.ProxyLocation("/", "http://u"), upstreams: """ "u": { "Discover": "http://catalog" } """);

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => ServingHost.StartAsync(json));

        Assert.Contains("AddProductionServingServiceDiscovery()", error.Message, StringComparison.Ordinal);
    }
}
