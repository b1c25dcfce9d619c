using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// HTTP/1.1 <c>Upgrade: websocket</c> through the proxy: frames pass both ways untouched, a close from
/// either side reaches the other with its status, and a handshake the upstream refuses is an ordinary response.
/// </summary>
public sealed class WebSocketTests
{
    [Theory]
    [InlineData(WebSocketMessageType.Text)]
    [InlineData(WebSocketMessageType.Binary)]
    public async Task Messages_AreEchoedThroughTheProxy(WebSocketMessageType type)
    {
        // YARP WebSocketTests.WebSocketMessageTypes, plus a message larger than the tunnel's buffer.
        await using var upstream = await StartEchoAsync();
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var client = await ConnectAsync(host, timeout.Token);

        foreach (var message in new[] { "hello", new string('x', 100_000) })
        {
            await client.SendAsync(Encoding.UTF8.GetBytes(message), type, endOfMessage: true, timeout.Token);
            var (receivedType, received) = await ReceiveAsync(client, timeout.Token);
            Assert.Equal(type, receivedType);
            Assert.Equal(message, received);
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal("bye", client.CloseStatusDescription);
        Assert.Equal("websocket", upstream.Last.Header("Upgrade"), ignoreCase: true);
    }

    [Fact]
    public async Task Http2WebSocket_IsTunnelledToAnHttp11Upstream()
    {
        // RFC 8441 (YARP WebSocketTests "WebSocketsH2ToH1"): an extended CONNECT from an HTTP/2 client goes
        // upstream as an HTTP/1.1 upgrade with a Sec-WebSocket-Key of the proxy's; the client gets 200.
        await using var upstream = await StartEchoAsync();
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address), protocols: HttpProtocols.Http2);
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        using var client = new ClientWebSocket();
        client.Options.HttpVersion = HttpVersion.Version20;
        client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        client.Options.CollectHttpResponseDetails = true;

        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}/ws"), invoker, timeout.Token);
        await client.SendAsync(Encoding.UTF8.GetBytes("over h2"), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var (_, received) = await ReceiveAsync(client, timeout.Token);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);

        Assert.Equal(HttpStatusCode.OK, client.HttpStatusCode);
        Assert.Equal("over h2", received);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        var handshake = upstream.Last;
        Assert.Equal(("GET", "HTTP/1.1"), (handshake.Method, handshake.Protocol));
        Assert.Equal("websocket", handshake.Header("Upgrade"), ignoreCase: true);
        Assert.Equal(16, Convert.FromBase64String(handshake.Header("Sec-WebSocket-Key")!).Length);
    }

    [Fact]
    public async Task ClientClose_ReachesTheUpstream_WithItsStatus()
    {
        var upstreamSaw = new TaskCompletionSource<(WebSocketCloseStatus?, string?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await StartWebSocketAsync(async (socket, context) =>
        {
            var buffer = new byte[1024];
            var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
            upstreamSaw.TrySetResult((result.CloseStatus, result.CloseStatusDescription));
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "acknowledged", context.RequestAborted);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var client = await ConnectAsync(host, timeout.Token);

        await client.CloseAsync(WebSocketCloseStatus.PolicyViolation, "client leaves", timeout.Token);

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "client leaves"), await upstreamSaw.Task.WaitAsync(TestTimeouts.Wait));
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal("acknowledged", client.CloseStatusDescription);
    }

    [Fact]
    public async Task UpstreamClose_ReachesTheClient_WithItsStatus()
    {
        var upstreamClosed = new TaskCompletionSource<WebSocketState>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await StartWebSocketAsync(async (socket, context) =>
        {
            var buffer = new byte[1024];
            await socket.ReceiveAsync(buffer, context.RequestAborted);
            await socket.CloseAsync((WebSocketCloseStatus)4000, "upstream leaves", context.RequestAborted);
            upstreamClosed.TrySetResult(socket.State);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var client = await ConnectAsync(host, timeout.Token);

        await client.SendAsync("close, please"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var result = await client.ReceiveAsync(new byte[1024], timeout.Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal((WebSocketCloseStatus)4000, result.CloseStatus);
        Assert.Equal("upstream leaves", result.CloseStatusDescription);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", timeout.Token);
        Assert.Equal(WebSocketState.Closed, await upstreamClosed.Task.WaitAsync(TestTimeouts.Wait));
    }

    [Fact]
    public async Task ClientAbort_EndsTheUpstreamSide()
    {
        var upstreamEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await StartWebSocketAsync(async (socket, context) =>
        {
            var buffer = new byte[1024];
            try
            {
                await socket.ReceiveAsync(buffer, context.RequestAborted);
                await socket.SendAsync("ready"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
                await socket.ReceiveAsync(buffer, context.RequestAborted);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
            }

            upstreamEnded.TrySetResult();
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var client = await ConnectAsync(host, timeout.Token);
        await client.SendAsync("hi"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        await ReceiveAsync(client, timeout.Token);

        client.Abort();

        await upstreamEnded.Task.WaitAsync(TestTimeouts.Wait);
    }

    [Fact]
    public async Task UpstreamAbort_EndsTheClientSide()
    {
        await using var upstream = await StartWebSocketAsync(async (socket, context) =>
        {
            await socket.ReceiveAsync(new byte[1024], context.RequestAborted);
            context.Abort();
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var client = await ConnectAsync(host, timeout.Token);

        await client.SendAsync("go away"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);

        await Assert.ThrowsAsync<WebSocketException>(() => client.ReceiveAsync(new byte[1024], timeout.Token));
    }

    [Fact]
    public async Task IdleTunnel_OutlivesReadTimeout()
    {
        // ReadTimeout bounds the wait for the handshake's answer; an open WebSocket may be quiet for as long as it likes.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var upstream = await StartEchoAsync();
        await using var host = await ServingHost.StartAsync(
            ServingJson.PassAll("http://backend", $$""" "backend": { "Servers": [ { "Address": "{{upstream.Address}}" } ], "ReadTimeout": "00:00:01" } """),
            services: services => services.AddSingleton<TimeProvider>(time));
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var client = await ConnectAsync(host, timeout.Token);

        time.Advance(TimeSpan.FromMinutes(5));
        await client.SendAsync("still here"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);

        Assert.Equal("still here", (await ReceiveAsync(client, timeout.Token)).Text);
    }

    [Fact]
    public async Task RefusedHandshake_IsForwardedAsAnOrdinaryResponse()
    {
        // YARP WebSocketTests.InvalidKeyHeader_400: a non-101 answer goes back as it is, body and all.
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("no sockets for you");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        await client.ReadUntilAsync("no sockets for you");

        var response = RawResponse.Parse(client.Received);
        Assert.Equal(403, response.StatusCode);
        Assert.DoesNotContain("Upgrade:", response.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("no sockets for you", response.Body, StringComparison.Ordinal);
        Assert.Equal("websocket", upstream.Last.Header("Upgrade"), ignoreCase: true);

        // The connection was not switched: it still speaks HTTP.
        await client.SendAsync("GET /again HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        await client.ReadToCloseAsync();
        Assert.Equal(2, upstream.Requests.Count);
    }

    private static Task<UpstreamHost> StartEchoAsync() => StartWebSocketAsync(async (socket, context) =>
    {
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var count = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(count), context.RequestAborted);
                count += result.Count;
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, socket.CloseStatusDescription, context.RequestAborted);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, count), result.MessageType, endOfMessage: true, context.RequestAborted);
        }
    });

    /// <summary>An upstream with ASP.NET Core's WebSocket middleware that runs <paramref name="session"/> on each accepted socket.</summary>
    private static Task<UpstreamHost> StartWebSocketAsync(Func<WebSocket, HttpContext, Task> session) =>
        UpstreamHost.StartAsync(async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await session(socket, context);
        }, builder => builder.Services.AddSingleton<IStartupFilter, WebSocketsFirst>());

    private static async Task<ClientWebSocket> ConnectAsync(ServingHost host, CancellationToken cancellationToken)
    {
        var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{host.Port}/ws"), cancellationToken);
        return client;
    }

    private static async Task<(WebSocketMessageType Type, string Text)> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[256 * 1024];
        var count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
            count += result.Count;
        }
        while (!result.EndOfMessage);

        return (result.MessageType, Encoding.UTF8.GetString(buffer, 0, count));
    }

    /// <summary>Puts <c>UseWebSockets()</c> ahead of the upstream's recording middleware and handler.</summary>
    private sealed class WebSocketsFirst : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseWebSockets();
            next(app);
        };
    }
}
