using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Proxy.ProxyTestHelpers;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Failures on either side: a client that goes away cancels the upstream request, and an upstream that
/// refuses, resets, closes early or talks nonsense gets the client a 502 before the response started,
/// and an aborted connection after (never a truncated response that looks complete).
/// </summary>
public sealed class AbortTests
{
    [Fact]
    public async Task ClientAbort_BeforeTheResponse_CancelsTheUpstreamRequest()
    {
        var arrived = Signal();
        var aborted = Signal();
        await using var upstream = await UpstreamHost.StartAsync(context => WaitForAbortAsync(context, arrived, aborted));
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await arrived.Task.WaitAsync(TestTimeouts.Wait);
        client.Reset();

        await aborted.Task.WaitAsync(TestTimeouts.Wait);
        await host.Logs.WaitForEventAsync(3008);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Level >= LogLevel.Warning && r.Id.Id is >= 3000 and < 4000);
    }

    [Fact]
    public async Task ClientAbort_MidResponse_CancelsTheUpstreamRequest()
    {
        // nginx's default (proxy_ignore_client_abort off): the client going away closes the upstream connection.
        var aborted = Signal();
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: one\n\n");
            await WaitForAbortAsync(context, arrived: null, aborted);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await client.ReadUntilAsync("data: one");
        client.Reset();

        await aborted.Task.WaitAsync(TestTimeouts.Wait);
        await host.Logs.WaitForEventAsync(3008);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Level >= LogLevel.Warning && r.Id.Id is >= 3000 and < 4000);
    }

    [Fact]
    public async Task ClientAbort_MidUpload_CancelsTheUpstreamRequest()
    {
        var arrived = Signal();
        var aborted = Signal();
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            var buffer = new byte[100];
            try
            {
                var read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted);
                arrived.TrySetResult();
                while (read != 0)
                {
                    read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
            {
                aborted.TrySetResult();
            }
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nthe first ten");
        await arrived.Task.WaitAsync(TestTimeouts.Wait);
        client.Reset();

        await aborted.Task.WaitAsync(TestTimeouts.Wait);
        await host.Logs.WaitForEventAsync(3008);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Level >= LogLevel.Warning && r.Id.Id is >= 3000 and < 4000);
    }

    [Theory]
    [InlineData("Content-Length: 100\r\n\r\nunfinished\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\n\r\nff\r\nunfinished\r\n")]
    public async Task UpstreamReset_MidBody_AbortsTheClientConnection_AndLogsTheServer(string headAndPartialBody)
    {
        var partialArrived = Signal();
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n" + headAndPartialBody), cancellationToken);
            await partialArrived.Task.WaitAsync(TestTimeouts.Wait, cancellationToken);
            RawUpstream.Reset(socket);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("GET /file HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await client.ReadUntilAsync("unfinished");
        partialArrived.SetResult();
        await client.ReadToCloseAsync();

        AssertIncomplete(client.Received);
        var log = await host.Logs.WaitForEventAsync(3007);
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Equal($"127.0.0.1:{upstream.Port}", log.Field("Server"));
    }

    [Theory]
    [InlineData("Content-Length: 100\r\n\r\nunfinished\r\n", false)]
    [InlineData("Transfer-Encoding: chunked\r\n\r\nff\r\nunfinished\r\n", false)]
    [InlineData("Content-Length: 10\r\n\r\nfinished\r\n", true)]
    [InlineData("Transfer-Encoding: chunked\r\n\r\na\r\nfinished\r\n\r\n0\r\n\r\n", true)]
    public async Task UpstreamClose_MidBody_NeverLooksLikeACompleteResponse(string headAndBody, bool complete)
    {
        // nginx-tests proxy_unfinished.t: a response the upstream closed early keeps its incompleteness
        // (no last chunk, fewer bytes than Content-Length); a complete one ends properly.
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nConnection: close\r\n" + headAndBody), cancellationToken);
            socket.Shutdown(SocketShutdown.Send);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("GET /file HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        await client.ReadToCloseAsync();

        if (complete)
        {
            var response = RawResponse.Parse(client.Received);
            Assert.Equal(200, response.StatusCode);
            Assert.Contains("finished\r\n", response.Body, StringComparison.Ordinal);
            Assert.True(IsComplete(response), $"Expected a complete response: {client.Received}");
        }
        else
        {
            AssertIncomplete(client.Received);
            await host.Logs.WaitForEventAsync(3007);
        }
    }

    [Fact]
    public async Task UpstreamReset_MidBody_FailsAnHttpClientDownload()
    {
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + new string('x', 1000)), cancellationToken);
            RawUpstream.Reset(socket);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        var failure = await Record.ExceptionAsync(() => host.Client.GetByteArrayAsync("/file"));

        // Either the partial body went out and was cut (HttpIOException), or the reset came first and the
        // answer is a 502: both tell the client it did not get the file.
        Assert.True(failure is HttpRequestException, $"Expected a failed download, got {failure?.GetType().Name ?? "a complete body"}.");
    }

    [Theory]
    [InlineData("garbage\r\n\r\n")]
    [InlineData("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\nhello")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Name: caf\u00e9\r\nContent-Length: 5\r\n\r\nhello")]
    public async Task MalformedResponse_Returns502_AndIsNotRetried(string malformed)
    {
        // RFC 9112 §6.3 and nginx (1.23+): ambiguous framing is answered 502, never forwarded with a
        // Content-Length that does not match the body; RFC 9110 §7.8: a 101 nobody asked for is not a
        // response; Kestrel cannot send a non-ASCII header value, so the head is refused whole.
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await socket.SendAsync(Encoding.Latin1.GetBytes(malformed), cancellationToken);
            socket.Shutdown(SocketShutdown.Send);
            await WaitForCloseAsync(socket, cancellationToken);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var response = await host.Client.GetAsync("/page");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("502 Bad Gateway\n", await response.Content.ReadAsStringAsync());
        var log = await host.Logs.WaitForEventAsync(3010);
        Assert.Equal($"127.0.0.1:{upstream.Port}", log.Field("Server"));
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task UpstreamCloses_BeforeAnyResponse_Returns502()
    {
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            socket.Shutdown(SocketShutdown.Both);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var response = await host.Client.GetAsync("/page");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var log = await host.Logs.WaitForEventAsync(3002);
        Assert.Equal($"127.0.0.1:{upstream.Port}", log.Field("Server"));
    }

    [Fact]
    public async Task UpstreamResets_WhileReadingTheRequestBody_Returns502()
    {
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            RawUpstream.Reset(socket);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var response = await host.Client.PostAsync("/upload", new ByteArrayContent(new byte[64 * 1024]));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var log = await host.Logs.WaitForEventAsync(3002);
        Assert.Equal($"127.0.0.1:{upstream.Port}", log.Field("Server"));
    }

    [Fact]
    public async Task UpstreamRefuses_Returns502_AndLogsTheServer()
    {
        var refusing = RawUpstream.RefusingAddress();
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(refusing));

        using var response = await host.Client.GetAsync("/page");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var log = await host.Logs.WaitForEventAsync(3001);
        Assert.Equal(new Uri(refusing).Authority, log.Field("Server"));
        var refused = Assert.IsType<SocketException>(Assert.IsType<HttpRequestException>(log.Exception).InnerException);
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    /// <summary>An upstream handler that signals its arrival, then waits until its request is aborted and signals that.</summary>
    private static async Task WaitForAbortAsync(HttpContext context, TaskCompletionSource? arrived, TaskCompletionSource aborted)
    {
        arrived?.TrySetResult();
        try
        {
            await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            aborted.TrySetResult();
        }
    }
}
