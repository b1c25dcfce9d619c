using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace ProductionServing.Tests.Functional;

/// <summary>
/// Under TestServer (and WebApplicationFactory) there is no raw request target: the already-decoded
/// Request.Path is matched, and must not be decoded a second time.
/// </summary>
public sealed class TestServerTests
{
    [Theory]
    [InlineData("/api/x", "/api/")]
    [InlineData("/api/%252e%252e/x", "/api/")]
    [InlineData("/%252e%252e/api/x", "none")]
    public async Task WithoutRawTarget_RequestPathIsMatchedWithoutDecodingTwice(string path, string expected)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test" });
        builder.WebHost.UseTestServer();
        builder.Services.AddProductionServing(o => o.Locations.Add(new LocationOptions { Match = "/api/", App = new AppOptions() }));
        await using var app = builder.Build();
        app.UseProductionServing();
        app.Run(context => context.Response.WriteAsync(context.Features.Get<ServingLocation>()?.Match ?? "none"));
        await app.StartAsync();

        var response = await app.GetTestClient().GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }
}
