using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Headers in both directions: hop-by-hop ones stay on their connection (RFC 9110 §7.6.1), the
/// X-Forwarded ones describe the client, Host is the upstream's unless PreserveHost, and response
/// headers arrive as the upstream wrote them. Cases after YARP's RequestUtilitiesTests and
/// HttpForwarderTests (hop-by-hop and multi-value headers) and nginx-tests proxy_set_header.t.
/// </summary>
public sealed class HeaderTests
{
    [Fact]
    public async Task HopByHopRequestHeaders_AndThoseConnectionNames_AreNotForwarded()
    {
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ProxyTestConfig.PassAll(upstream.Address));

        // One Connection header, as clients send it (Kestrel keeps only the last of several).
        using var request = new HttpRequestMessage(HttpMethod.Get, "/h");
        request.Headers.TryAddWithoutValidation("Connection", "X-Hop-One, x-hop-two");
        foreach (var (name, value) in new[] { ("X-Hop-One", "1"), ("X-Hop-Two", "2"), ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"),
            ("TE", "trailers"), ("Trailer", "X-T"), ("Upgrade", "h2c"), ("X-End-To-End", "kept") })
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = upstream.Last;
        foreach (var name in new[] { "X-Hop-One", "X-Hop-Two", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade" })
        {
            Assert.Null(forwarded.Header(name));
        }

        // SocketsHttpHandler keeps its own connection persistent: whatever it sends, it is not the client's value.
        Assert.DoesNotContain("X-Hop-One", forwarded.Header("Connection") ?? "", StringComparison.OrdinalIgnoreCase);
        Assert.Equal("kept", forwarded.Header("X-End-To-End"));
    }

    [Fact]
    public async Task ForwardedFor_IsAppended_ProtoAndHost_AreSet()
    {
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ProxyTestConfig.PassAll(upstream.Address));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/f");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7, 198.51.100.2");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "spoofed.example");
        request.Headers.Host = "shop.example:8443";

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = upstream.Last;
        Assert.Equal("203.0.113.7, 198.51.100.2, 127.0.0.1", forwarded.Header("X-Forwarded-For"));
        Assert.Equal("http", forwarded.Header("X-Forwarded-Proto"));
        Assert.Equal("shop.example:8443", forwarded.Header("X-Forwarded-Host"));
        Assert.Equal($"127.0.0.1:{upstream.Port}", forwarded.Header("Host"));
    }

    [Fact]
    public async Task NonAsciiHeaderValue_IsForwarded_AndNoServerIsBlamed()
    {
        // Kestrel takes UTF-8 header values; a forwarder that refused them would fail the attempt on every
        // server and count each failure against it (dotnet/yarp#1502).
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ProxyTestConfig.PassAll("http://backend", ProxyTestConfig.Group("backend", "", upstream.Address)));

        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = static (_, _) => Encoding.UTF8 };
        using var client = new HttpClient(handler) { BaseAddress = host.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/u");
        request.Headers.TryAddWithoutValidation("X-Name", "caf\u00e9");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("caf\u00e9", upstream.Last.Header("X-Name"));
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Id.Id is >= 3001 and <= 3012 and not 3008 and not 3011);
    }

    [Fact]
    public async Task ForwardedFor_FollowsEachRequestsAddress_OnOneConnection()
    {
        // Behind UseForwardedHeaders (or a PROXY protocol front end) the client address changes per
        // request on one keep-alive connection; the per-connection cache must notice.
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(
            ProxyTestConfig.PassAll(upstream.Address),
            beforeServing: app => app.Use((context, next) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(context.Request.Headers["X-Test-Client"].ToString());
                return next(context);
            }));
        var seen = new List<string?>();

        foreach (var client in new[] { "203.0.113.1", "203.0.113.2", "203.0.113.2" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
            request.Headers.Add("X-Test-Client", client);
            using var response = await host.Client.SendAsync(request);
            seen.Add(upstream.Last.Header("X-Forwarded-For"));
        }

        Assert.Equal(["203.0.113.1", "203.0.113.2", "203.0.113.2"], seen);
    }

    [Fact]
    public async Task PreserveHost_SendsTheClientsHost()
    {
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ProxyTestConfig.Json(
            $$"""{ "Match": "/", "Proxy": { "Pass": "http://backend", "PreserveHost": true } }""", ProxyTestConfig.Group("backend", "", upstream.Address)));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/p");
        request.Headers.Host = "shop.example";

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("shop.example", upstream.Last.Header("Host"));
    }

    [Fact]
    public async Task ResponseHeaders_ArriveAsWritten_WithoutHopByHopOnes()
    {
        const string Head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Resp-Hop\r\nX-Resp-Hop: secret\r\n"
            + "Keep-Alive: timeout=5\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; HttpOnly\r\nX-Multi: one\r\nX-Multi: two\r\n"
            + "Cache-Control: private, max-age=0\r\nX-Odd-Spacing:   value  with  spaces\r\n\r\nok";
        await using var upstream = RawUpstream.Start(async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            await socket.SendAsync(Encoding.ASCII.GetBytes(Head), SocketFlags.None, token);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, token);
        });
        await using var host = await ServingHost.StartAsync(ProxyTestConfig.PassAll(upstream.Address));

        var response = await host.SendRawAsync("GET /r HTTP/1.1");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("ok", response.Body);
        Assert.Contains("Set-Cookie: a=1; Path=/\r\n", response.Head, StringComparison.Ordinal);
        Assert.Contains("Set-Cookie: b=2; HttpOnly\r\n", response.Head, StringComparison.Ordinal);
        Assert.Contains("X-Multi: one\r\n", response.Head, StringComparison.Ordinal);
        Assert.Contains("X-Multi: two\r\n", response.Head, StringComparison.Ordinal);
        Assert.Contains("Cache-Control: private, max-age=0\r\n", response.Head, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Resp-Hop", response.Head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Keep-Alive", response.Head, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ContentHeaders_OfTheRequestBody_AreForwarded()
    {
        await using var upstream = await UpstreamHost.StartAsync(static async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await context.Response.WriteAsync(await reader.ReadToEndAsync());
        });
        await using var host = await ServingHost.StartAsync(ProxyTestConfig.PassAll(upstream.Address));
        using var content = new StringContent("{\"a\":1}", Encoding.UTF8, "application/json");
        content.Headers.ContentLanguage.Add("de");

        using var response = await host.Client.PutAsync("/c", content);

        Assert.Equal("{\"a\":1}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json; charset=utf-8", upstream.Last.Header("Content-Type"));
        Assert.Equal("7", upstream.Last.Header("Content-Length"));
        Assert.Equal("de", upstream.Last.Header("Content-Language"));
    }
}
