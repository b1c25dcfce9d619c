using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Status;

/// <summary>
/// The status page's HTTP surface: the page and its JSON on loopback with their headers, and invisibility
/// (404, the answer an unknown file gets) for clients outside <c>Allow</c>.
/// </summary>
public sealed class StatusPageTests
{
    private static readonly string AppEverywhere = ServingJson.Config("""{ "Match": "/", "App": {} }""", section: StatusTestClient.Section());

    [Theory]
    [InlineData("/_serving")]
    [InlineData("/_serving/")]
    [InlineData("//_serving")] // matched on the normalized path, like any location
    public async Task Page_OnLoopback_IsOneSelfContainedDocument_WithAStrictPolicy(string path)
    {
        await using var host = await ServingHost.StartAsync(AppEverywhere);

        using var response = await host.Client.GetAsync(new Uri($"http://127.0.0.1:{host.Port}{path}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var html = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Equal(0, host.AppInvocations);

        // No external asset: nothing is loaded by URL (the one "http" is the SVG namespace, a name, not a fetch).
        Assert.DoesNotMatch(@"<(script|link|img|iframe)[^>]+(src|href)=""(?!data:)", html);
        Assert.DoesNotContain("@import", html, StringComparison.Ordinal);
        Assert.Equal(["http://www.w3.org/2000/svg"], [.. Regex.Matches(html, @"https?://[^""\s]+").Select(m => m.Value).Distinct()]);

        // The policy admits exactly this page's inline script and style, by hash, and fetches to its own origin.
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.StartsWith("default-src 'none'; ", policy, StringComparison.Ordinal);
        Assert.Contains($"script-src {Hash(Inline(html, "script"))};", policy, StringComparison.Ordinal);
        Assert.Contains($"style-src {Hash(Inline(html, "style"))};", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self';", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.True(html.Length < 32 * 1024, $"The page is {html.Length} characters.");
    }

    [Fact]
    public async Task StatusJson_IsJson_NotStored()
    {
        await using var host = await ServingHost.StartAsync(AppEverywhere);

        using var response = await host.Client.GetAsync(new Uri("/_serving/status.json", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        var status = await host.Client.StatusAsync();
        Assert.Equal(1, status.GetProperty("version").GetInt32());
        Assert.Equal("/_serving", status.GetProperty("status_path").GetString());
        Assert.Equal(0, host.AppInvocations);
    }

    [Fact]
    public async Task Head_GetsTheHeadersOnly_AndOtherMethodsGet405()
    {
        await using var host = await ServingHost.StartAsync(AppEverywhere);

        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/_serving/status.json"));
        using var post = await host.Client.PostAsync(new Uri("/_serving/status.json", UriKind.Relative), new StringContent("x"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.True(head.Content.Headers.ContentLength > 0);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow);
        Assert.Equal(0, host.AppInvocations);
    }

    [Theory]
    [InlineData("/_serving")]
    [InlineData("/_serving/")]
    [InlineData("/_serving/status.json")]
    [InlineData("/_serving/match?path=/")]
    public async Task LoopbackOutsideAllow_GetsExactlyWhatAnUnknownPathGets(string path)
    {
        using var site = new StaticSite();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.StaticRoot(site.Root), section: StatusTestClient.Section("[\"10.0.0.0/8\", \"fd00::/8\"]")));

        using var status = await host.Client.GetAsync(new Uri(path, UriKind.Relative));
        using var unknown = await host.Client.GetAsync(new Uri("/no-such-file", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        Assert.Equal(await unknown.Content.ReadAsStringAsync(), await status.Content.ReadAsStringAsync());
        Assert.Equal(unknown.Content.Headers.ContentType, status.Content.Headers.ContentType);
        Assert.False(status.Headers.Contains("Content-Security-Policy"));
    }

    [Theory]
    [InlineData("203.0.113.9", false)]
    [InlineData("::ffff:203.0.113.9", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.9.8.7", true)]
    [InlineData("::ffff:127.0.0.1", true)] // a dual-stack socket's IPv4 client, compared as IPv4
    [InlineData("::1", true)]
    public async Task DefaultAllow_IsLoopback_AndAnyoneElseGets404_NotTheLocations(string client, bool sees)
    {
        // The client's address as UseForwardedHeaders (or a PROXY protocol front end) would set it.
        await using var host = await ServingHost.StartAsync(AppEverywhere, beforeServing: app => app.Use((context, next) =>
        {
            context.Connection.RemoteIpAddress = IPAddress.Parse(context.Request.Headers["X-Test-Client"].ToString());
            return next(context);
        }));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_serving/status.json");
        request.Headers.Add("X-Test-Client", client);

        using var response = await host.Client.SendAsync(request);

        // The app under location "/" would answer the path with 200: an outsider gets 404 all the same.
        var body = await response.Content.ReadAsStringAsync();
        if (sees)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("{\"version\":1,", body, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain("version", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WithoutStatus_ThePathIsAnOrdinaryPath()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config("""{ "Match": "/", "App": {} }"""));

        Assert.Equal("0|/|App|default|/_serving", await host.Client.GetStringAsync(new Uri("/_serving", UriKind.Relative)));
    }

    [Fact]
    public async Task StatusRequests_AreNotCounted()
    {
        await using var host = await ServingHost.StartAsync(AppEverywhere);
        await host.Client.GetStringAsync(new Uri("/x", UriKind.Relative));
        await host.Client.StatusWhenAsync(s => s.Location("/").GetProperty("requests").GetInt64() == 1, "the app request is counted");

        for (var i = 0; i < 3; i++)
        {
            await host.Client.GetStringAsync(new Uri("/_serving", UriKind.Relative));
        }

        var status = await host.Client.StatusAsync();
        Assert.Equal(1, status.Location("/").GetProperty("requests").GetInt64());
        Assert.Equal(0, status.Location(null).GetProperty("requests").GetInt64());
    }

    private static string Inline(string html, string tag)
    {
        var start = html.IndexOf($"<{tag}>", StringComparison.Ordinal) + tag.Length + 2;
        return html[start..html.IndexOf($"</{tag}>", start, StringComparison.Ordinal)];
    }

    private static string Hash(string text) => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)))}'";
}
