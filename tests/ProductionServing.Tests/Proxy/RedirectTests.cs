using System.Net;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// RewriteRedirects, nginx's "proxy_redirect default": cases after nginx-tests proxy_redirect.t
/// ("implicit default", "implicit default (refresh)", "rewrite off").
/// </summary>
public sealed class RedirectTests
{
    /// <summary>An upstream that redirects every request to itself under <c>/replace_this</c>, as proxy_redirect.t's backend does.</summary>
    private static Task<UpstreamHost> SelfRedirectingUpstreamAsync() => UpstreamHost.StartAsync(static context =>
    {
        var self = $"http://{context.Request.Host}{context.Request.Path}";
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = self;
        context.Response.Headers["Refresh"] = "7; url=" + self;
        return Task.CompletedTask;
    });

    [Fact]
    public async Task LocationAndRefresh_ToTheUpstreamItself_AreRewrittenToTheClientFacingUrl()
    {
        await using var upstream = await SelfRedirectingUpstreamAsync();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/impl_default/", "Proxy": { "Pass": "{{upstream.Address}}/replace_this/" } }"""));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/impl_default/test.html");
        request.Headers.Host = "shop.example:8080";

        using var client = NoRedirectClient(host);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/replace_this/test.html", upstream.Last.RawTarget);
        Assert.Equal("http://shop.example:8080/impl_default/test.html", response.Headers.Location!.OriginalString);
        Assert.Equal("7; url=http://shop.example:8080/impl_default/test.html", response.Headers.GetValues("Refresh").Single());
    }

    [Fact]
    public async Task PassWithoutPath_KeepsThePath_AndRewritesTheOrigin()
    {
        await using var upstream = await SelfRedirectingUpstreamAsync();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "/app/", "Proxy": { "Pass": "http://backend" } }""", ServingJson.Upstream("backend", "", upstream.Address)));

        using var client = NoRedirectClient(host);
        using var response = await client.GetAsync("/app/page");

        Assert.Equal($"http://127.0.0.1:{host.Port}/app/page", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task RewriteOff_LeavesTheUpstreamsUrl()
    {
        await using var upstream = await SelfRedirectingUpstreamAsync();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/off/", "Proxy": { "Pass": "{{upstream.Address}}/", "RewriteRedirects": false } }"""));

        using var client = NoRedirectClient(host);
        using var response = await client.GetAsync("/off/test.html");

        Assert.Equal($"{upstream.Address}/test.html", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task RedirectsElsewhere_AreLeftAlone()
    {
        await using var upstream = await UpstreamHost.StartAsync(static context =>
        {
            context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
            context.Response.Headers.Location = "https://login.example/start?from=%2Fx";
            return Task.CompletedTask;
        });
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/", "Proxy": { "Pass": "{{upstream.Address}}/" } }"""));

        using var client = NoRedirectClient(host);
        using var response = await client.GetAsync("/x");

        Assert.Equal("https://login.example/start?from=%2Fx", response.Headers.Location!.OriginalString);
    }

    private static HttpClient NoRedirectClient(ServingHost host) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = host.Client.BaseAddress, Timeout = TestTimeouts.Wait };
}
