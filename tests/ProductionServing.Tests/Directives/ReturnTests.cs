using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Directives;

/// <summary>
/// <c>Return</c>, nginx's <c>return</c> as a handler: redirects with variables and captures, fixed bodies, the
/// plain error body for a status of 400 or more, any method, HEAD without the body. Cases after nginx-tests
/// rewrite.t ("return 301 …", "return 200 text", "return 404", "return 405" for every method).
/// </summary>
public sealed class ReturnTests
{
    [Fact]
    public async Task Redirect_ToHttps_KeepsTheRawTarget_AndHost()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "/", "Return": { "Status": 301, "Location": "https://$host$request_uri" } }"""));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/a%20b/c?x=1&y=%2F");
        request.Headers.Host = "Shop.Example:8080";
        using var client = NoRedirects(host);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("https://shop.example/a%20b/c?x=1&y=%2F", response.Headers.Location!.OriginalString);
        Assert.Equal(0, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, host.AppInvocations);
    }

    [Theory]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task EveryRedirectStatus_SendsItsLocation_ForEveryMethod(int status)
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/old/", "Return": { "Status": {{status}}, "Location": "/new$uri?$args" } }"""));
        using var client = NoRedirects(host);
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Delete, new HttpMethod("PURGE") })
        {
            using var request = new HttpRequestMessage(method, "/old/page?q=1");
            using var response = await client.SendAsync(request);

            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("/new/old/page?q=1", response.Headers.Location!.OriginalString);
        }
    }

    [Fact]
    public async Task Body_UsesTheLocationsCaptures_AndItsContentType_HeadGetsTheHeadersOnly()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "~ ^/users/(\\d+)/(\\w+)$", "Return": { "Status": 200, "Body": "user $1 wants $2 from $remote_addr\n", "ContentType": "text/x-answer" } }"""));

        using var response = await host.Client.GetAsync("/users/42/edit");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("user 42 wants edit from 127.0.0.1\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/x-answer", response.Content.Headers.ContentType!.ToString());

        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/users/7/view"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(Encoding.UTF8.GetByteCount("user 7 wants view from 127.0.0.1\n"), head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        using var other = await host.Client.GetAsync("/users/x/edit");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(1, host.AppInvocations);
    }

    [Fact]
    public async Task ConstantBody_IsUtf8_WithTheDefaultContentType()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "= /healthz", "Return": { "Status": 200, "Body": "ok ✓\n" } }"""));

        using var response = await host.Client.GetAsync("/healthz");

        Assert.Equal("ok ✓\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(Encoding.UTF8.GetByteCount("ok ✓\n"), response.Content.Headers.ContentLength);
    }

    [Theory]
    [InlineData(404, "404 Not Found\n")]
    [InlineData(403, "403 Forbidden\n")]
    [InlineData(503, "503 Service Unavailable\n")]
    [InlineData(444, "")]
    public async Task ErrorStatus_WithoutBody_GetsThePlainErrorBody_WithoutAnErrorType(int status, string body)
    {
        ServingErrorFeature? error = null;
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "^~ /wp-admin/", "Return": { "Status": {{status}} } }"""),
            beforeServing: app => app.Use(async (context, next) =>
            {
                await next(context);
                error = context.Features.Get<ServingErrorFeature>();
            }));

        using var response = await host.Client.PostAsync("/wp-admin/login.php", new StringContent("x"));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Null(error);
    }

    [Fact]
    public async Task ErrorStatus_WithoutBody_IsRenderedByTheAppsStatusCodePages_AsNginxsErrorPage()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "^~ /wp-admin/", "Return": { "Status": 404 } }, { "Match": "= /gone", "Return": { "Status": 410, "Body": "gone for good" } }"""),
            beforeServing: app => app.UseStatusCodePages());

        using var notFound = await host.Client.GetAsync("/wp-admin/login.php");
        using var withBody = await host.Client.GetAsync("/gone");

        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.StartsWith("Status Code: 404; Not Found", await notFound.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A configured Body is the answer itself, as nginx's "return 410 text" is.
        Assert.Equal("gone for good", await withBody.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RedirectWithADecodedVariable_IsPercentEncoded_NotAServerError()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "/", "Return": { "Status": 301, "Location": "https://example.com$uri" } }"""));
        using var client = NoRedirects(host);

        using var response = await client.GetAsync("/caf%C3%A9/menu");

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("https://example.com/caf%C3%A9/menu", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task NoContent_HasNoBody()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config("""{ "Match": "= /beacon", "Return": { "Status": 204 } }"""));

        using var response = await host.Client.PostAsync("/beacon", new StringContent("event"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Location_ReportsItsHandler_AsReturn()
    {
        ServingLocation? seen = null;
        await using var host = await ServingHost.StartAsync(ServingJson.Config("""{ "Match": "= /x", "Return": { "Status": 200 } }"""),
            beforeServing: app => app.Use(async (context, next) =>
            {
                await next(context);
                seen = context.Features.Get<ServingLocation>();
            }));

        using var response = await host.Client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ServingHandler.Return, seen!.Handler);
        Assert.Equal("= /x", seen.Match);
    }

    private static HttpClient NoRedirects(ServingHost host) =>
        new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.Client.BaseAddress, Timeout = TestTimeouts.Wait };
}
