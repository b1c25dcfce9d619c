using System.Net;
using System.Net.Sockets;
using ProductionServing.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProductionServing.Tests.Pools;

/// <summary>
/// Graceful shutdown of a real process stopped by SIGTERM (tests/ProductionServing.ShutdownApp, pool
/// <c>p</c>): what was admitted runs to completion, what arrives after the stop began is turned away,
/// and only what would outlive the host's ShutdownTimeout is refused, with a count in the log.
/// </summary>
public sealed class SigtermTests(ITestOutputHelper output)
{
    [LinuxFact("sends SIGTERM to a real process")]
    public async Task Sigterm_CompletesEveryRunningAndQueuedRequest_TurnsALateArrivalAway_AndExitsWith0()
    {
        using var app = await AppProcess.StartAsync("--limit", "2", "--queue", "10", "--shutdown-timeout", "60");
        using var client = Client(app);
        string[] running = ["r1", "r2"], queued = ["q1", "q2", "q3", "q4"];
        var requests = new Dictionary<string, Task<HttpResponseMessage>>();
        foreach (var id in running)
        {
            requests[id] = client.GetAsync("/gate/" + id);
            await app.LineAsync("started " + id);
        }

        foreach (var id in queued)
        {
            requests[id] = client.GetAsync("/gate/" + id);
        }

        await WaitForStatusAsync(app, "2 4");

        app.Terminate();
        await app.LineAsync("stopping");
        output.WriteLine("late arrival: " + await TurnAwayAsync(app, "/gate/late"));

        foreach (var id in requests.Keys)
        {
            await app.SendAsync("release " + id);
        }

        foreach (var (id, request) in requests)
        {
            using var response = await request;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("done " + id, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(0, await app.ExitCodeAsync(TestTimeouts.Long));
        Assert.DoesNotContain("started late", app.Lines);
        Assert.DoesNotContain(app.Lines, line => line.Contains("[4008]", StringComparison.Ordinal));
        Assert.Contains("exited", app.Lines);
    }

    [LinuxFact("sends SIGTERM to a real process")]
    public async Task Sigterm_QueuedRequestsThatWouldOutliveTheShutdownTimeout_Get503_AndAreLoggedWithACount()
    {
        using var app = await AppProcess.StartAsync("--limit", "1", "--queue", "10", "--shutdown-timeout", "10");
        using var client = Client(app);
        var running = client.GetAsync("/gate/r1");
        await app.LineAsync("started r1");
        var queued = new[] { client.GetAsync("/gate/q1"), client.GetAsync("/gate/q2") };
        await WaitForStatusAsync(app, "1 2");

        app.Terminate();

        foreach (var request in queued)
        {
            using var response = await request;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("1", Assert.Single(response.Headers.GetValues("Retry-After")));
        }

        await app.LineAsync(line => line.Contains("[4008]", StringComparison.Ordinal) && line.Contains("2 queued requests", StringComparison.Ordinal));

        // The running request outlives the timeout too: the host ends its connection.
        await Assert.ThrowsAsync<HttpRequestException>(() => running);
        Assert.Equal(0, await app.ExitCodeAsync(TestTimeouts.Long));
        Assert.DoesNotContain("started q1", app.Lines);
        Assert.DoesNotContain("started q2", app.Lines);
    }

    [LinuxFact("sends SIGTERM to a real process")]
    public async Task Sigterm_WithADrainDelay_FailsReadinessAtOnce_AndServesNewRequestsThroughTheDelay_ThenExits()
    {
        // Long enough for the steps below on a loaded machine; the process exits when it is over.
        using var app = await AppProcess.StartAsync("--drain-delay", "10", "--shutdown-timeout", "60");
        using var client = Client(app);
        using (var ready = await client.GetAsync("/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        app.Terminate();
        await app.LineAsync("stopping");
        using (var ready = await client.GetAsync("/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        // A new request to the pool, on a new connection, is still run: a load balancer may still send it.
        using var late = Client(app);
        var request = late.GetAsync("/gate/during-drain");
        await app.LineAsync("started during-drain");
        await app.SendAsync("release during-drain");
        using (var response = await request)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("done during-drain", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(0, await app.ExitCodeAsync(TestTimeouts.Long));
        Assert.Contains("exited", app.Lines);
    }

    private static HttpClient Client(AppProcess app) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"), Timeout = TestTimeouts.Long };

    /// <summary>Polls <c>/status</c> (running and queued in pool <c>p</c>) until it reads <paramref name="expected"/>.</summary>
    private static async Task WaitForStatusAsync(AppProcess app, string expected)
    {
        using var status = Client(app);
        await Poll.UntilAsync(async () => await status.GetStringAsync("/status") == expected, "pool p reads " + expected);
    }

    /// <summary>
    /// Sends a request after the stop began: while the server still listens the pool answers 503 with
    /// Retry-After; once it has stopped listening there is no connection (see <see cref="NoConnection"/>).
    /// Returns which, for the test's output.
    /// </summary>
    private static async Task<string> TurnAwayAsync(AppProcess app, string path)
    {
        using var late = Client(app);
        try
        {
            using var response = await late.GetAsync(path);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("1", Assert.Single(response.Headers.GetValues("Retry-After")));
            return "503";
        }
        catch (HttpRequestException ex) when (NoConnection(ex) is { } how)
        {
            return how;
        }
    }

    /// <summary>
    /// How the server turned the connection away: refused (the listener is closed), reset (the kernel had
    /// queued the connection, but the listener closed before Kestrel accepted it), or closed before an answer
    /// (Kestrel accepted it as it stopped); null for anything else.
    /// </summary>
    private static string? NoConnection(HttpRequestException ex)
    {
        if (ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded)
        {
            return ex.HttpRequestError.ToString();
        }

        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.ConnectionReset } socket)
            {
                return socket.SocketErrorCode.ToString();
            }
        }

        return null;
    }
}
