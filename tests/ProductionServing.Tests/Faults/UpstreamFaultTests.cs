using System.Net;
using System.Net.Sockets;
using System.Text;
using ProductionServing.Tests.Infrastructure;
using Xunit.Abstractions;
using static ProductionServing.Tests.Proxy.ProxyTestHelpers;

namespace ProductionServing.Tests.Faults;

/// <summary>
/// An upstream that fails the proxy: before the response started the client gets nginx's answer (502
/// for a broken or unreadable response, 504 for a timeout); after, an aborted connection. Each time the
/// same server answers the next request, and the failure leaves nothing open.
/// </summary>
[Collection(Faults.Name)]
public sealed class UpstreamFaultTests(ITestOutputHelper output)
{
    [LinuxFact(Faults.ReadsProc)]
    public async Task UpstreamDiesMidResponse_AbortsTheClientConnection()
    {
        var partialArrived = Signal();
        await using var upstream = Faulty(async (socket, cancellationToken) =>
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nunfinished"), cancellationToken);
            await Volatile.Read(ref partialArrived).Task.WaitAsync(TestTimeouts.Wait, cancellationToken);
            RawUpstream.Reset(socket);
        });
        await using var host = await ServingHost.StartAsync(Config(upstream.Address));

        await FaultRun.RepeatAsync(async () =>
        {
            Volatile.Write(ref partialArrived, Signal());
            using var client = await RawClient.ConnectAsync(host.Port);
            await client.SendAsync("GET /file HTTP/1.1\r\nHost: localhost\r\n\r\n");
            await client.ReadUntilAsync("unfinished");
            partialArrived.SetResult();
            await client.ReadToCloseAsync();

            Assert.StartsWith("HTTP/1.1 200 ", client.Received, StringComparison.Ordinal);
            AssertIncomplete(client.Received);
        }, () => FaultRun.AssertServesAsync(host.Client, "/ok", "ok"), output);
    }

    [LinuxFact(Faults.ReadsProc)]
    public async Task UpstreamStalls_Returns504_WhenTheReadTimeoutFires()
    {
        await using var upstream = Faulty(WaitForCloseAsync);
        await using var host = await ServingHost.StartAsync(Config(upstream.Address, readTimeout: "00:00:00.200"));

        await FaultRun.RepeatAsync(
            () => AssertAnswersAsync(host, HttpStatusCode.GatewayTimeout),
            () => FaultRun.AssertServesAsync(host.Client, "/ok", "ok"), output);
    }

    [LinuxFact(Faults.ReadsProc)]
    public async Task UpstreamSendsGarbage_Returns502()
    {
        var garbage = new byte[4096];
        new Random(15).NextBytes(garbage);
        await using var upstream = Faulty(async (socket, cancellationToken) =>
        {
            await socket.SendAsync(garbage, cancellationToken);
            await WaitForCloseAsync(socket, cancellationToken);
        });
        await using var host = await ServingHost.StartAsync(Config(upstream.Address));

        await FaultRun.RepeatAsync(
            () => AssertAnswersAsync(host, HttpStatusCode.BadGateway),
            () => FaultRun.AssertServesAsync(host.Client, "/ok", "ok"), output);
    }

    [LinuxFact(Faults.ReadsProc)]
    public async Task UpstreamSendsMegabytesOfHeaders_Returns502()
    {
        // nginx answers 502 when the head does not fit proxy_buffer_size ("upstream sent too big header");
        // SocketsHttpHandler stops at its MaxResponseHeadersLength (64 KiB) and fails the request the same way.
        var lines = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("X-Filler: " + new string('x', 1000) + "\r\n", 64)));
        await using var upstream = Faulty(async (socket, cancellationToken) =>
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n"), cancellationToken);
            for (var sent = 0; sent < 8 * 1024 * 1024; sent += lines.Length)
            {
                await socket.SendAsync(lines, cancellationToken); // fails once the proxy gave up and closed
            }

            await WaitForCloseAsync(socket, cancellationToken);
        });
        await using var host = await ServingHost.StartAsync(Config(upstream.Address));

        await FaultRun.RepeatAsync(
            () => AssertAnswersAsync(host, HttpStatusCode.BadGateway),
            () => FaultRun.AssertServesAsync(host.Client, "/ok", "ok"), output);
    }

    /// <summary>
    /// A raw upstream answering <c>GET /ok</c> properly (and closing, as HTTP/1.0 servers do) and handing
    /// every other request, its head read, to <paramref name="fault"/>.
    /// </summary>
    private static RawUpstream Faulty(Func<Socket, CancellationToken, Task> fault) => RawUpstream.Start(async (socket, cancellationToken) =>
    {
        var head = await RawUpstream.ReadHeadAsync(socket, cancellationToken);
        if (head.StartsWith("GET /ok ", StringComparison.Ordinal))
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"), cancellationToken);
            socket.Shutdown(SocketShutdown.Send);
            await WaitForCloseAsync(socket, cancellationToken);
            return;
        }

        await fault(socket, cancellationToken);
    });

    private static async Task AssertAnswersAsync(ServingHost host, HttpStatusCode expected)
    {
        using var response = await host.Client.GetAsync(new Uri("/fault", UriKind.Relative));
        Assert.Equal(expected, response.StatusCode);
    }

    /// <summary>
    /// <c>/</c> passing to the group <c>backend</c> of the one server at <paramref name="address"/>, with no
    /// retries, so each fault reaches the server once. The ReadTimeout is short for a stall, so it costs
    /// little; otherwise it is long, so a busy machine slow to deliver a fault does not turn it into a 504.
    /// </summary>
    private static string Config(string address, string readTimeout = "00:00:10") =>
        ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", $$""" "ReadTimeout": "{{readTimeout}}", "Retries": 0 """, address));
}
