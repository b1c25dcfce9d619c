using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// What request target reaches the upstream: nginx's proxy_pass rules ("If proxy_pass is specified
/// without a URI, the request URI is passed to the server in the same form as sent by a client";
/// with a URI, "the part of a normalized request URI matching the location is replaced by a URI
/// specified in the directive"). Cases after nginx-tests proxy.t and proxy_merge_slashes.t.
/// </summary>
public sealed class PassUriTests : IAsyncLifetime
{
    private UpstreamHost _upstream = null!;
    private ServingHost _host = null!;

    public async Task InitializeAsync()
    {
        _upstream = await UpstreamHost.StartAsync(static context => context.Response.WriteAsync("ok"));
        var a = _upstream.Address;
        _host = await ServingHost.StartAsync(ServingJson.Config($$"""
            { "Match": "/api/",      "Proxy": { "Pass": "http://backend" } },
            { "Match": "/old/",      "Proxy": { "Pass": "http://backend/v2/" } },
            { "Match": "/strip/",    "Proxy": { "Pass": "http://backend/" } },
            { "Match": "/plain/",    "Proxy": { "Pass": "{{a}}" } },
            { "Match": "= /login",   "Proxy": { "Pass": "{{a}}/auth/signin" } },
            { "Match": "~ \\.php$",  "Proxy": { "Pass": "http://backend" } }
            """, ServingJson.Upstream("backend", "", a)));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    // No path part: the target goes as sent, escapes and all.
    [InlineData("/api/users?id=7", "/api/users?id=7")]
    [InlineData("/api/a%20b/c%2Fd?q=%E2%82%AC&x=a+b&y=%2B", "/api/a%20b/c%2Fd?q=%E2%82%AC&x=a+b&y=%2B")]
    [InlineData("/api/x?", "/api/x?")]
    [InlineData("/api/x?a=1&a=2&empty=", "/api/x?a=1&a=2&empty=")]
    [InlineData("/plain/deep/path.json", "/plain/deep/path.json")]
    // A path part replaces the location prefix; the rest follows as sent.
    [InlineData("/old/a/b?x=%2F", "/v2/a/b?x=%2F")]
    [InlineData("/old/", "/v2/")]
    [InlineData("/old/%7Euser/", "/v2/%7Euser/")]
    [InlineData("/strip/x/y", "/x/y")]
    // An exact location's whole path is replaced (nginx proxy.t "exact location").
    [InlineData("/login", "/auth/signin")]
    [InlineData("/login?next=%2Fhome", "/auth/signin?next=%2Fhome")]
    // A regex location takes no path part: the target goes as sent.
    [InlineData("/app/index.php?a=b", "/app/index.php?a=b")]
    public async Task Target_ReachesTheUpstream_AsNginxWouldSendIt(string sent, string expected)
    {
        var response = await _host.SendRawAsync($"GET {sent} HTTP/1.1");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal(expected, _upstream.Last.RawTarget);
    }

    [Fact]
    public async Task PrefixWrittenWithEscapes_IsReplacedInTheNormalizedPath()
    {
        // "/ol%64/" is "/old/" once decoded: the location matched the normalized path, so that is where
        // the prefix is replaced (nginx: "the part of a normalized request URI matching the location").
        var response = await _host.SendRawAsync("GET /ol%64/a%20b?k=v HTTP/1.1");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("/v2/a%20b?k=v", _upstream.Last.RawTarget);
    }

    [Fact]
    public async Task RequestReExecutedByAnErrorHandler_GoesUpstreamUnderItsNewPath()
    {
        // UseStatusCodePagesWithReExecute runs the pipeline again under /errors/404 while the raw target
        // stays the original's: the upstream must see the new path, and the URI cache must not confuse them.
        await using var upstream = await UpstreamHost.StartAsync(static context => context.Response.WriteAsync("error page"));
        await using var host = await ServingHost.StartAsync(ServingJson.Config($$"""
            { "Match": "= /missing", "Static": { "Root": "no-such-folder" } },
            { "Match": "/errors/", "Proxy": { "Pass": "{{upstream.Address}}" } }
            """), app => app.UseStatusCodePagesWithReExecute("/errors/{0}"));

        for (var i = 0; i < 2; i++)
        {
            var response = await host.SendRawAsync("GET /missing?from=client HTTP/1.1");

            Assert.Contains("error page", response.Body, StringComparison.Ordinal);
            Assert.Equal("/errors/404", upstream.Last.RawTarget);
        }
    }

    [Fact]
    public async Task AbsoluteFormTarget_SendsItsPathAndQuery()
    {
        var response = await _host.SendRawAsync("GET http://localhost/api/abs?q=1 HTTP/1.1");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("/api/abs?q=1", _upstream.Last.RawTarget);
    }

    [Fact]
    public async Task Methods_AreForwarded_AsSent()
    {
        using var request = new HttpRequestMessage(new HttpMethod("PROPFIND"), "/api/dav");

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("PROPFIND", _upstream.Last.Method);
        Assert.Equal("HTTP/1.1", _upstream.Last.Protocol);
    }
}
