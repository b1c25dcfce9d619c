using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ProductionServing.Tests.Functional;

/// <summary>The README's sample, started as users start it, through WebApplicationFactory.</summary>
public sealed class QuickStartTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    [Fact]
    public async Task Root_Returns200()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("ProductionServing QuickStart", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/healthz", HttpStatusCode.OK, "ok")]
    [InlineData("/api/hello", HttpStatusCode.OK, "\"location\":\"^~ /api/\"")]
    [InlineData("/reports/2026.csv", HttpStatusCode.OK, "served by location '~* \\.(csv|xlsx)$'")]
    [InlineData("/internal/secret", HttpStatusCode.NotFound, "")]
    public async Task ConfiguredLocations_SelectAsInAppSettings(string path, HttpStatusCode status, string bodyPart)
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(bodyPart, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
