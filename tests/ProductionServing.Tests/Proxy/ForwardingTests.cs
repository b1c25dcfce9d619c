using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>The request line and body as forwarded: nginx's proxy_pass URI rules, methods, bodies.</summary>
public sealed class ForwardingTests
{
    [Fact]
    public async Task Get_IsForwarded_WithStatusHeadersAndBody()
    {
        await using var upstream = await UpstreamHost.StartAsync(context =>
        {
            context.Response.StatusCode = 201;
            context.Response.Headers["X-Upstream"] = "yes";
            return context.Response.WriteAsync("hello from upstream");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var response = await host.Client.GetAsync("/some/path?x=1");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("yes", response.Headers.GetValues("X-Upstream").Single());
        Assert.Equal("hello from upstream", await response.Content.ReadAsStringAsync());
        Assert.Equal("/some/path?x=1", upstream.Last.RawTarget);
        Assert.Equal(0, host.AppInvocations);
    }

    [Fact]
    public async Task Post_StreamsTheBodyUpstream()
    {
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            await context.Response.WriteAsync($"{context.Request.Method} {body.Length} {body[..5]}");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.Config($$"""{ "Match": "/api/", "Proxy": { "Pass": "http://backend" } }""",
            $$""" "backend": { "Servers": [ { "Address": "{{upstream.Address}}" } ] } """));

        using var response = await host.Client.PostAsync("/api/upload", new StringContent("hello" + new string('x', 100_000), Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("POST 100005 hello", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain; charset=utf-8", upstream.Last.Header("Content-Type"));
    }

    [Fact]
    public async Task UpstreamConnections_AreKeptAlive_AndForwardingAddsNoCookiesRedirectsOrDecompression()
    {
        // docs/proxy.md, Connections: "One pool per upstream group (SocketsHttpHandler,
        // HTTP/1.1 keep-alive), with no cookies, redirects, decompression or system proxy."
        var gzipped = new byte[] { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
        await using var upstream = await UpstreamHost.StartAsync(context =>
        {
            context.Response.Headers["X-Connection"] = context.Connection.Id;
            context.Response.Headers.SetCookie = "session=upstream";
            context.Response.Headers.ContentEncoding = "gzip";
            return context.Response.Body.WriteAsync(gzipped).AsTask();
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        // A client that keeps no cookies itself, so a Cookie upstream could only come from the proxy.
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = host.Client.BaseAddress, Timeout = TestTimeouts.Wait };
        var connections = new HashSet<string>();

        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/k");
            connections.Add(response.Headers.GetValues("X-Connection").Single());
            Assert.Equal("gzip", response.Content.Headers.ContentEncoding.Single());
            Assert.Equal(gzipped, await response.Content.ReadAsByteArrayAsync());
        }

        Assert.Single(connections);
        Assert.All(upstream.Requests, r => Assert.Null(r.Header("Cookie")));
        Assert.All(upstream.Requests, r => Assert.Null(r.Header("Accept-Encoding")));
    }
}
