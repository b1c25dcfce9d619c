using ProductionServing.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProductionServing.Tests.Faults;

/// <summary>
/// A client that is slow or goes away: a slow one gets every byte (the server waits on TCP's window, and
/// holds nothing more for it), one that leaves mid-download or mid-upload ends the work done for it (the
/// file closed, the upstream connection closed, the app's read failed), and nothing stays open.
/// </summary>
[Collection(Faults.Name)]
public sealed class ClientFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FaultHosts _hosts = null!;

    public async Task InitializeAsync() => _hosts = await FaultHosts.StartAsync();

    public async Task DisposeAsync() => await _hosts.DisposeAsync();

    [LinuxTheory(Faults.ReadsProc)]
    [InlineData("/big.bin")]    // streamed from disk: above the hot-file cache's 64 KiB
    [InlineData("/proxy/large")]
    public async Task SlowClient_GetsTheWholeBody(string path)
    {
        await FaultRun.RepeatAsync(async () =>
        {
            using var client = await SlowClient.ConnectAsync(_hosts.Host.Port);
            await client.SendAsync($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");

            Assert.True(await client.ReadResponseAsync(), $"The body ended after {client.Body.Length} bytes: {client.Head}");
            Assert.StartsWith("HTTP/1.1 200 ", client.Head, StringComparison.Ordinal);
            Assert.True(client.Body.Span.SequenceEqual(_hosts.Large), "The body differs from what was sent.");
        }, () => _hosts.AssertServesAsync(), output);
    }

    [LinuxTheory(Faults.ReadsProc)]
    [InlineData("/big.bin")]
    [InlineData("/proxy/large")]
    [InlineData("/proxy/endless")]
    public async Task ClientGoesAway_MidDownload(string path)
    {
        await FaultRun.RepeatAsync(async () =>
        {
            _hosts.Arm();
            using var client = await SlowClient.ConnectAsync(_hosts.Host.Port);
            await client.SendAsync($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
            await client.ReadAtLeastAsync(64 * 1024);
            client.Reset();

            if (path == "/proxy/endless")
            {
                // nginx's default (proxy_ignore_client_abort off): the upstream connection is closed too.
                await _hosts.ClientGone.WaitAsync(TestTimeouts.Wait);
            }
        }, () => _hosts.AssertServesAsync(), output);

        // A response cut short is aborted, never left to end short of its Content-Length, which Kestrel
        // logs as an app error when it has not seen the connection close yet (a race: not every run).
        Assert.DoesNotContain(_hosts.Host.Logs.GetSnapshot(), r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [LinuxTheory(Faults.ReadsProc)]
    [InlineData("/proxy/upload")]
    [InlineData("/app/upload")]     // read with blocking calls on a dedicated thread
    public async Task ClientGoesAway_MidUpload(string path)
    {
        await FaultRun.RepeatAsync(async () =>
        {
            _hosts.Arm();
            using var client = await SlowClient.ConnectAsync(_hosts.Host.Port);
            await client.SendAsync($"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {FaultHosts.LargeSize}\r\n\r\n");
            await client.SendBodyAsync(64 * 1024);
            await _hosts.Started.WaitAsync(TestTimeouts.Wait);
            client.Reset();

            await _hosts.ClientGone.WaitAsync(TestTimeouts.Wait);
        }, () => _hosts.AssertServesAsync(), output);
    }
}
