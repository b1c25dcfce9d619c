using System.Net;
using ProductionServing.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProductionServing.Tests.Faults;

/// <summary>
/// Configuration reloads while requests run: every request is answered as one configuration or the
/// other says, and what a reload replaces (a static location's files and folder watch, a pool's
/// dedicated threads, an upstream group) is let go once its requests are done, not kept.
/// </summary>
[Collection(Faults.Name)]
public sealed class ReloadFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int RequestsEach = 8;
    private const int Reloads = 4;     // even: each round ends on the configuration it started with

    /// <summary>
    /// What each client asks for. One client alone asks the proxy, so the upstream connection pool (whose
    /// idle connections stay open for 50 s) holds one connection however the requests interleave; more
    /// would grow it, and that would read as a leak.
    /// </summary>
    private static readonly (string Path, string Body)[][] Requests =
    [
        [("/proxy/ok", "upstream ok")],
        [("/hello.txt", "hello world"), ("/app/ok", "2|/app/|App|p|/app/ok")],
        [("/app/ok", "2|/app/|App|p|/app/ok"), ("/hello.txt", "hello world")],
        [("/hello.txt", "hello world"), ("/app/ok", "2|/app/|App|p|/app/ok")],
    ];

    private FaultHosts _hosts = null!;

    public async Task InitializeAsync() => _hosts = await FaultHosts.StartAsync();

    public async Task DisposeAsync() => await _hosts.DisposeAsync();

    [LinuxFact(Faults.ReadsProc)]
    public async Task ReloadsUnderLoad_AnswerEveryRequest_AndKeepNothingTheyReplaced()
    {
        var host = _hosts.Host;
        await FaultRun.RepeatAsync(async () =>
        {
            // A client of its own, whose connections close with it: how many the load opens varies with
            // how the requests interleave, and pooled ones would stay open past the count.
            using var client = new HttpClient { BaseAddress = host.Client.BaseAddress, Timeout = TestTimeouts.Wait };
            var answered = 0;
            var load = Enumerable.Range(0, Requests.Length).Select(n => Task.Run(async () =>
            {
                for (var i = 0; i < RequestsEach; i++)
                {
                    var (path, body) = Requests[n][i % Requests[n].Length];
                    await FaultRun.AssertServesAsync(client, path, body);
                    Interlocked.Increment(ref answered);
                }
            })).ToList();

            for (var reload = 1; reload <= Reloads; reload++)
            {
                var threshold = reload * Requests.Length * RequestsEach / (Reloads + 1);
                await Poll.UntilAsync(() => Volatile.Read(ref answered) >= threshold || load.Any(t => t.IsFaulted), $"{threshold} requests were answered");
                var changed = reload % 2 == 1;

                // Each changes what the static location finds (a new file lookup and folder watch), starts
                // or ends the pool's dedicated threads, and builds a new upstream group on the same connections.
                host.Reload(
                    ("ProductionServing:Locations:0:Static:AllowHiddenFiles", changed ? "true" : "false"),
                    ("ProductionServing:Pools:p:DedicatedThreads", changed ? "false" : "true"),
                    ("ProductionServing:Pools:p:Workers", changed ? null : "2"),
                    ("ProductionServing:Upstreams:backend:ReadTimeout", changed ? "00:00:30" : "00:01:00"));
                using var hidden = await client.GetAsync(new Uri("/.env", UriKind.Relative));
                Assert.Equal(changed ? HttpStatusCode.OK : HttpStatusCode.NotFound, hidden.StatusCode);
            }

            await Task.WhenAll(load).WaitAsync(TestTimeouts.Long);
        }, () => _hosts.AssertServesAsync(), output);
    }
}
