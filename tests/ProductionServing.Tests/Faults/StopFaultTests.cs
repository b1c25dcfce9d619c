using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ProductionServing.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProductionServing.Tests.Faults;

/// <summary>
/// A host stopped while requests are in flight: a request that can finish does, one that cannot (an
/// endless stream, an upload whose client stalls) has its connection aborted when the shutdown timeout
/// ends, StopAsync returns soon after, and the stopped host leaves nothing behind: no listening or
/// accepted socket, no folder watch, no dedicated thread.
/// </summary>
[Collection(Faults.Name)]
public sealed class StopFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>
    /// How long the host waits for in-flight requests (HostOptions.ShutdownTimeout, 30 s by default):
    /// short, since the endless stream waits it out on every stop.
    /// </summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromMilliseconds(300);

    private FaultHosts _hosts = null!;

    public async Task InitializeAsync() => _hosts = await FaultHosts.StartAsync();

    public async Task DisposeAsync() => await _hosts.DisposeAsync();

    [LinuxFact(Faults.ReadsProc)]
    public async Task StopUnderLoad_FinishesOrAbortsEveryRequest_AndReturns()
    {
        await FaultRun.RepeatAsync(async () =>
        {
            var host = await _hosts.StartHostAsync(services => services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout));
            await using (host)
            {
                await _hosts.AssertServesAsync(host);
                using var download = await SlowClient.ConnectAsync(host.Port);
                await download.SendAsync("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
                await download.ReadAtLeastAsync(16 * 1024);
                using var stream = await SlowClient.ConnectAsync(host.Port);
                await stream.SendAsync("GET /proxy/endless HTTP/1.1\r\nHost: localhost\r\n\r\n");
                await stream.ReadAtLeastAsync(16 * 1024);     // then it stops reading: the stream never ends
                _hosts.Arm();
                using var upload = await SlowClient.ConnectAsync(host.Port);
                await upload.SendAsync($"POST /app/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: {FaultHosts.LargeSize}\r\n\r\n");
                await upload.SendBodyAsync(16 * 1024);        // then it stops sending: a dedicated thread waits in Read
                await _hosts.Started.WaitAsync(TestTimeouts.Wait);

                var stopwatch = Stopwatch.StartNew();
                var stopping = host.App.StopAsync();
                var downloaded = await download.ReadResponseAsync();
                await stopping.WaitAsync(TestTimeouts.Wait);
                var stopped = stopwatch.Elapsed;

                // The download finishes (it needs no more than a moment) or was aborted: never cut short
                // while looking complete. The stream and the upload cannot finish: their connections end.
                Assert.True(downloaded ? download.Body.Span.SequenceEqual(_hosts.Large) : download.Body.Length < FaultHosts.LargeSize,
                    $"{download.Body.Length} bytes of {FaultHosts.LargeSize}, complete: {downloaded}");
                Assert.False(await stream.ReadResponseAsync());
                Assert.False(stream.Body.Span.EndsWith("0\r\n\r\n"u8), "The endless stream ended with a last chunk.");
                Assert.False(await upload.ReadResponseAsync(), upload.Head);
                await _hosts.ClientGone.WaitAsync(TestTimeouts.Wait); // the app's blocking read failed: its thread is free to end
                Assert.True(stopped < ShutdownTimeout + TimeSpan.FromSeconds(5), $"StopAsync took {stopped}.");
            }
        }, () => _hosts.AssertServesAsync(), output, repetitions: 10);
    }
}
