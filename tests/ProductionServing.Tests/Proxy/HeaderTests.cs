using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
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
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        // One Connection header naming only extension fields: Kestrel passes that on as sent
        // (ConnectionNamingKestrelsOwnOption_ReachesTheAppAsThatOptionAlone shows when it does not).
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

    [Theory]
    [InlineData("127.0.0.1", "", "127.0.0.1", "http", "shop.example:8443")]
    [InlineData("127.0.0.1", "\"10.0.0.0/8\", \"::1\"", "127.0.0.1", "http", "shop.example:8443")]
    [InlineData("127.0.0.1", "\"127.0.0.0/8\"", "203.0.113.7, 198.51.100.2, 127.0.0.1", "https", "spoofed.example")]
    [InlineData("::1", "\"127.0.0.1\"", "::1", "http", "shop.example:8443")]
    [InlineData("::1", "\"::1/128\"", "203.0.113.7, 198.51.100.2, ::1", "https", "spoofed.example")]
    public async Task ForwardedHeaders_FromATrustedProxyAreKept_FromAnyoneElseReplaced(string client, string trusted, string forwardedFor, string proto, string forwardedHost)
    {
        // Only a client in TrustedProxies (a load balancer in front) may say who came before it and over what;
        // anyone else's X-Forwarded-* would let it make up the address or scheme the upstream sees.
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        var json = ServingJson.PassAll(upstream.Address).Replace("\"ProductionServing\": {", $"\"ProductionServing\": {{ \"TrustedProxies\": [{trusted}],", StringComparison.Ordinal);
        await using var host = await ServingHost.StartAsync(json, address: IPAddress.Parse(client));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/f");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7, 198.51.100.2");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "spoofed.example");
        request.Headers.Host = "shop.example:8443";

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = upstream.Last;
        Assert.Equal(forwardedFor, forwarded.Header("X-Forwarded-For"));
        Assert.Equal(proto, forwarded.Header("X-Forwarded-Proto"));
        Assert.Equal(forwardedHost, forwarded.Header("X-Forwarded-Host"));
        Assert.Equal($"127.0.0.1:{upstream.Port}", forwarded.Header("Host"));
    }

    [Fact]
    public void TrustedProxies_ThatAreNotNetworks_AreStartupErrors()
    {
        var failures = TestConfig.Failures("""{ "ProductionServing": { "TrustedProxies": [ "10.0.0.0/8", "load-balancer" ] } }""");

        Assert.Single(failures);
        Assert.StartsWith("TrustedProxies[1]: ", failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonAsciiHeaderValue_IsForwarded_AndNoServerIsBlamed()
    {
        // Kestrel takes UTF-8 header values; a forwarder that refused them would fail the attempt on every
        // server and count each failure against it (dotnet/yarp#1502).
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", "", upstream.Address)));

        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = static (_, _) => Encoding.UTF8 };
        using var client = new HttpClient(handler) { BaseAddress = host.Client.BaseAddress, Timeout = TestTimeouts.Wait };
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
            ServingJson.PassAll(upstream.Address),
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
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/", "Proxy": { "Pass": "http://backend", "PreserveHost": true } }""", ServingJson.Upstream("backend", "", upstream.Address)));
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
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

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
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var content = new StringContent("{\"a\":1}", Encoding.UTF8, "application/json");
        content.Headers.ContentLanguage.Add("de");

        using var response = await host.Client.PutAsync("/c", content);

        Assert.Equal("{\"a\":1}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json; charset=utf-8", upstream.Last.Header("Content-Type"));
        Assert.Equal("7", upstream.Last.Header("Content-Length"));
        Assert.Equal("de", upstream.Last.Header("Content-Language"));
    }

    [Theory]
    [InlineData("HTTP/1.1", "Connection: X-Foo, X-Bar")]
    [InlineData("HTTP/1.1", "Connection: x-foo ,  X-BAR")]
    [InlineData("HTTP/1.1", "Connection: X-Foo,\tX-Bar")]
    [InlineData("HTTP/1.1", "Connection: , X-Foo,, X-Bar ,")]
    [InlineData("HTTP/1.1", "Connection: X-Foo\r\nConnection: X-Bar")]
    [InlineData("HTTP/1.1", "Connection: keep-alive, Upgrade, X-Foo, X-Bar")]
    [InlineData("HTTP/1.0", "Connection: X-Foo, X-Bar")]
    [InlineData("HTTP/1.0", "Connection: X-Foo\r\nConnection: X-Bar")]
    public async Task FieldsTheConnectionHeaderNames_AreNotForwarded(string version, string connection)
    {
        // RFC 9110 §7.6.1: any name, any case, optional whitespace (space or tab) and empty list elements
        // (§5.6.1), over one header line or several.
        var (forwarded, answer) = await ForwardRawAsync(
            $"GET /c {version}\r\nHost: localhost\r\n{connection}\r\nX-Foo: 1\r\nX-Bar: 2\r\nX-Kept: k\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.Equal("k", HeaderOf(forwarded, "X-Kept"));
        Assert.Null(HeaderOf(forwarded, "X-Foo"));
        Assert.Null(HeaderOf(forwarded, "X-Bar"));
        Assert.DoesNotContain("x-foo", HeaderOf(forwarded, "Connection") ?? "", StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ContentFieldTheConnectionHeaderNames_IsNotForwarded()
    {
        // Content-Language goes to HttpContent's headers, a second path from the client's request to the upstream.
        var (forwarded, answer) = await ForwardRawAsync(
            "POST /c HTTP/1.1\r\nHost: localhost\r\nConnection: Content-Language\r\nContent-Language: de\r\nContent-Length: 2\r\n\r\nhi");

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.Null(HeaderOf(forwarded, "Content-Language"));
        Assert.Equal("2", HeaderOf(forwarded, "Content-Length"));
    }

    [Fact]
    public async Task Http2Settings_OfAnH2cUpgradeRequest_IsNotForwarded()
    {
        // What curl --http2 sends to an http:// URL. HTTP2-Settings applies to one connection only (RFC 7540
        // §3.2.1), and Kestrel hands the app "Connection: Upgrade" without the HTTP2-Settings option, so
        // the field has to be known as connection-specific to be removed.
        var (forwarded, answer) = await ForwardRawAsync(
            "GET /h2c HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            + "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nX-Kept: k\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.Equal("k", HeaderOf(forwarded, "X-Kept"));
        Assert.Null(HeaderOf(forwarded, "HTTP2-Settings"));
        Assert.Null(HeaderOf(forwarded, "Upgrade"));
    }

    [Fact]
    public async Task ForwardedFor_TheConnectionHeaderNames_IsNotAppendedTo()
    {
        // The client's X-Forwarded-For is removed like any field its Connection header names; this hop's
        // own X-Forwarded-For then holds only the client's address.
        var (forwarded, _) = await ForwardRawAsync(
            "GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: X-Forwarded-For\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n");

        Assert.Equal("127.0.0.1", HeaderOf(forwarded, "X-Forwarded-For"));
    }

    [Theory]
    [InlineData("Connection: keep-alive, X-Foo", "keep-alive")]
    [InlineData("Connection: close, X-Foo", "close")]
    [InlineData("Connection: Upgrade, X-Foo\r\nUpgrade: h2c", "Upgrade")]
    [InlineData("Connection: X-Foo\r\nConnection: keep-alive", "keep-alive")]
    public async Task ConnectionNamingKestrelsOwnOption_ReachesTheAppAsThatOptionAlone(string connection, string seen)
    {
        // The limit of what any middleware on Kestrel can remove: when the Connection header holds exactly one
        // of keep-alive, close and upgrade, Kestrel replaces all of it with that option before the app runs
        // (HttpHeaders.ParseConnection in dotnet/aspnetcore src/Servers/Kestrel/Core/src/Internal/Http/HttpHeaders.cs)
        // and keeps no raw header bytes (dotnet/aspnetcore#6210), so the other names are unknowable here.
        // Should Kestrel ever keep them, ProxyHeaders removes their fields as it does above: update docs/proxy.md then.
        var reached = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address), beforeServing: app => app.Use((context, next) =>
        {
            reached.TrySetResult(string.Join("|", context.Request.Headers.Connection.ToArray()));
            return next(context);
        }));
        using var client = await RawClient.ConnectAsync(host.Port);

        await client.SendAsync($"GET /k HTTP/1.1\r\nHost: localhost\r\n{connection}\r\nX-Foo: 1\r\n\r\n");

        Assert.Equal(seen, await reached.Task.WaitAsync(TestTimeouts.Wait));
    }

    [Theory]
    [InlineData("connection", "x-foo")]
    [InlineData("te", "gzip")]
    public async Task Http2ConnectionField_IsRefusedByKestrel_AndNothingGoesUpstream(string name, string value)
    {
        // RFC 9113 §8.2.2: a request with a connection-specific field is malformed. Kestrel answers with a
        // connection error (GOAWAY, PROTOCOL_ERROR), so over HTTP/2 there is no Connection header to honour.
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address), protocols: HttpProtocols.Http2);

        var answer = await RawHttp2Client.GetAsync(host.Port, "/h2", (name, value), ("x-foo", "1"));

        Assert.Equal(new Http2Answer(0, GoAway: true, ErrorCode: 1), answer);
        Assert.Empty(upstream.Requests);
    }

    [Theory]
    [InlineData("keep-alive", "timeout=5")]
    [InlineData("proxy-connection", "keep-alive")]
    [InlineData("upgrade", "h2c")]
    [InlineData("transfer-encoding", "chunked")]
    [InlineData("te", "trailers")]
    [InlineData("http2-settings", "AAMAAABkAAQCAAAAAAIAAAAA")]
    public async Task Http2ConnectionSpecificField_KestrelLetsThrough_IsNotForwarded(string name, string value)
    {
        // Kestrel accepts these in an HTTP/2 request (only Connection, and TE other than "trailers", are
        // refused); none of them may reach an HTTP/1.1 upstream.
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address), protocols: HttpProtocols.Http2);

        var answer = await RawHttp2Client.GetAsync(host.Port, "/h2", (name, value), ("x-kept", "k"));

        Assert.Equal(200, answer.Status);
        Assert.Equal("k", upstream.Last.Header("X-Kept"));
        Assert.Null(upstream.Last.Header(name));
    }

    [Theory]
    [InlineData("Connection: X-Secret, X-Other")]
    [InlineData("Connection: keep-alive, x-secret ,  X-OTHER")]
    [InlineData("Connection: close, X-Secret\r\nConnection: X-Other")]
    [InlineData("Connection: X-Secret,\tX-Other")]
    public async Task ResponseFieldsTheUpstreamsConnectionNames_DoNotReachTheClient(string connection)
    {
        // SocketsHttpHandler keeps the upstream's Connection header as received, every token and every line.
        var head = $"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n{connection}\r\nX-Secret: s\r\nX-Other: o\r\n"
            + "Keep-Alive: timeout=5\r\nX-Kept: k\r\n\r\nok";
        await using var upstream = RawUpstream.Start(async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            await socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, token);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, token);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        var response = await host.SendRawAsync("GET /r HTTP/1.1");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("k", HeaderOf(response.Head, "X-Kept"));
        Assert.Null(HeaderOf(response.Head, "X-Secret"));
        Assert.Null(HeaderOf(response.Head, "X-Other"));
        Assert.Null(HeaderOf(response.Head, "Keep-Alive"));
    }

    [Fact]
    public async Task ResponseTrailerTheUpstreamsConnectionNames_DoesNotReachTheClient()
    {
        // RFC 9110 §7.6.1 removes "any header or trailer field" a Connection option names; trailers reach
        // only an HTTP/2 client, and take a path of their own after the body.
        await using var upstream = RawUpstream.Start(async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: X-Secret\r\nTrailer: X-Secret, X-Checksum\r\n\r\n"
                + "5\r\nhello\r\n0\r\nX-Secret: s\r\nX-Checksum: 42\r\n\r\n"), SocketFlags.None, token);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, token);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address), protocols: HttpProtocols.Http2);
        using var client = new HttpClient
        {
            BaseAddress = host.Client.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TestTimeouts.Wait,
        };

        using var response = await client.GetAsync("/t");

        Assert.Equal("hello", await response.Content.ReadAsStringAsync());
        Assert.Equal("42", Assert.Single(response.TrailingHeaders.GetValues("X-Checksum")));
        Assert.False(response.TrailingHeaders.Contains("X-Secret"));
    }

    [Fact]
    public async Task WebSocketSwitch_FieldsTheUpstreamsConnectionNames_DoNotReachTheClient()
    {
        // The 101 of a WebSocket handshake is copied by WebSocketTunnel, not ProxyResponse.
        const string Switch = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade, X-Secret\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\nX-Kept: k\r\n\r\n";
        await using var upstream = RawUpstream.Start(async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            await socket.SendAsync(Encoding.ASCII.GetBytes(Switch), SocketFlags.None, token);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, token);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var client = await RawClient.ConnectAsync(host.Port);

        await client.SendAsync("GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        var head = await client.ReadUntilAsync("\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        Assert.Equal("k", HeaderOf(head, "X-Kept"));
        Assert.Null(HeaderOf(head, "X-Secret"));
        Assert.Null(HeaderOf(head, "Keep-Alive"));
    }

    /// <summary>
    /// Sends <paramref name="request"/> byte for byte through a proxy to a raw upstream; returns the request head
    /// the upstream received and the response head the client received.
    /// </summary>
    private static async Task<(string Forwarded, string Answer)> ForwardRawAsync(string request)
    {
        var forwarded = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = RawUpstream.Start(async (socket, token) =>
        {
            forwarded.TrySetResult(await RawUpstream.ReadHeadAsync(socket, token));
            await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nforwarded"u8.ToArray(), SocketFlags.None, token);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, token);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var client = await RawClient.ConnectAsync(host.Port);

        await client.SendAsync(request);
        var answer = await client.ReadUntilAsync("forwarded");

        return (await forwarded.Task.WaitAsync(TestTimeouts.Wait), answer);
    }

    /// <summary>The values of <paramref name="name"/> in an HTTP/1.1 head, joined with ", "; null when absent.</summary>
    private static string? HeaderOf(string head, string name)
    {
        var values = new List<string>();
        foreach (var line in head.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                values.Add(line[(colon + 1)..].Trim());
            }
        }

        return values.Count == 0 ? null : string.Join(", ", values);
    }
}
