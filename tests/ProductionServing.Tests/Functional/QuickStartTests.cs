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
    [InlineData("/assets/site.css", HttpStatusCode.OK, "font-family")]
    [InlineData("/download/report.txt?key=demo", HttpStatusCode.OK, "Quarterly report")]
    [InlineData("/download/report.txt", HttpStatusCode.Forbidden, "")]
    [InlineData("/download/..%2Fappsettings.json?key=demo", HttpStatusCode.NotFound, "")]
    [InlineData("/protected/report.txt", HttpStatusCode.NotFound, "")]
    [InlineData("/blocking/1", HttpStatusCode.OK, "slept 1 ms on ProductionServing worker blocking#")]
    public async Task ConfiguredLocations_SelectAsInAppSettings(string path, HttpStatusCode status, string bodyPart)
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(bodyPart, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assets_CarryTheirCacheControl()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync(new Uri("/assets/site.css", UriKind.Relative));

        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
    }
}
