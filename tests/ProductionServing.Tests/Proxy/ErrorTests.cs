using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Failures before a response: 502 for refused, reset or garbage, 504 for a timeout, each with a short
/// plain body and one log entry naming the upstream server (YARP HttpForwarderTests
/// "UnableToConnect_Returns502", "RequestTimedOut_Returns504"; nginx "connect() failed (111:
/// Connection refused) while connecting to upstream", "upstream timed out").
/// </summary>
public sealed class ErrorTests
{
    [Fact]
    public async Task Refused_Returns502_WithPlainBody_AndALogNamingTheServer()
    {
        var address = RawUpstream.RefusingAddress();
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", "", address)));

        using var response = await host.Client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("502 Bad Gateway\n", await response.Content.ReadAsStringAsync());
        var log = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 3001);
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Equal(("backend", new Uri(address).Authority), (log.Field("Upstream"), log.Field("Server")));
    }

    [Fact]
    public async Task NoResponseWithinReadTimeout_Returns504()
    {
        await using var upstream = RawUpstream.Start(static async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, token); // never answers; ends when the proxy gives up
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", "\"ReadTimeout\": \"00:00:00.300\"", upstream.Address)));

        using var response = await host.Client.GetAsync("/slow");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("504 Gateway Timeout\n", await response.Content.ReadAsStringAsync());
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 3003 && r.Field("ReadTimeout") == "00:00:00.3000000");
    }

    [Fact]
    public async Task NoConnectionWithinConnectTimeout_Returns504()
    {
        // A listener whose accept queue is full: the kernel drops further SYNs, so a connect hangs.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                using var attempt = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
                try
                {
                    await filler.ConnectAsync(IPAddress.Loopback, port, attempt.Token);
                }
                catch (OperationCanceledException)
                {
                    break; // the queue is full now
                }
            }

            await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", "\"ConnectTimeout\": \"00:00:00.300\"", $"http://127.0.0.1:{port}")));

            using var response = await host.Client.GetAsync("/c");

            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 3013 && r.Field("ConnectTimeout") == "00:00:00.3000000");
        }
        finally
        {
            fillers.ForEach(static s => s.Dispose());
        }
    }

    [Theory]
    [InlineData("closes at once", "")]
    [InlineData("not HTTP", "SSH-2.0-OpenSSH_9.2\r\n")]
    [InlineData("a broken status line", "HTTP/1.1 2xx Fine\r\n\r\n")]
    public async Task ResetOrGarbageBeforeAResponse_Returns502(string behaviour, string answer)
    {
        _ = behaviour;
        await using var upstream = RawUpstream.Start(async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            if (answer.Length == 0)
            {
                RawUpstream.Reset(socket);
                return;
            }

            await socket.SendAsync(Encoding.ASCII.GetBytes(answer), SocketFlags.None, token);
            socket.Shutdown(SocketShutdown.Send);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", "\"Retries\": 0", upstream.Address)));

        using var response = await host.Client.GetAsync("/g");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("502 Bad Gateway\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task InvalidHead_CountsAgainstTheServersHealth()
    {
        // nginx: "The cases of error, timeout and invalid_header are always considered unsuccessful
        // attempts" for max_fails, even when the 502 comes from checking the head after it arrived.
        await using var bad = RawUpstream.Start(static async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), SocketFlags.None, token);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, token);
        });
        await using var good = await UpstreamHost.NamedAsync("good");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", "\"MaxFails\": 1, \"FailTimeout\": \"00:10:00\"", bad.Address, good.Address)));

        using var first = await host.Client.GetAsync("/a");
        var after = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            after.Add(await host.Client.GetStringAsync("/b"));
        }

        Assert.Equal(HttpStatusCode.BadGateway, first.StatusCode);
        Assert.Equal(["good", "good", "good"], after);
        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 3004);
    }

    [Fact]
    public async Task Head_GetsTheErrorStatus_WithoutABody()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/", "Proxy": { "Pass": "{{RawUpstream.RefusingAddress()}}" } }"""));

        var response = await host.SendRawAsync("HEAD /x HTTP/1.1");

        Assert.Equal(502, response.StatusCode);
        Assert.Contains("Content-Length: 16", response.Head, StringComparison.Ordinal);
        Assert.Equal("", response.Body);
    }
}
