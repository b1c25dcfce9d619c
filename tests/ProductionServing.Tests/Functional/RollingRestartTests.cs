using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ProductionServing.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProductionServing.Tests.Functional;

/// <summary>
/// A rolling restart that loses nothing: two instances of samples/QuickStart (with <c>Shutdown.DrainDelay</c>)
/// behind a third QuickStart process configured as their load balancer (an upstream group with active
/// health checks on <c>/ready</c>, and retries), all real processes on loopback. Under constant load
/// mixing GETs and POSTs, each instance in turn is stopped with SIGTERM, waited for, and started again:
/// every request must succeed with its own answer, and each instance must take traffic again.
/// </summary>
/// <remarks>
/// Why nothing is lost: SIGTERM fails the instance's readiness at once, the balancer's next probe takes it
/// out, and the drain delay (longer than a probe interval and timeout) keeps serving whatever was sent
/// before that; then Kestrel stops accepting with nothing more on its way, and the requests in flight
/// finish. A request that still meets a closed port is retried on the other instance (nothing was sent).
/// </remarks>
[CollectionDefinition(nameof(RollingRestartTests), DisableParallelization = true)]
public sealed class RollingRestartTests(ITestOutputHelper output)
{
    private const int Clients = 4;

    [LinuxFact("sends SIGTERM to real processes")]
    public async Task RestartingEachInstanceInTurn_UnderLoad_LosesNoRequest_AndEachTakesTrafficAgain()
    {
        int[] ports = [NginxProcess.FreePort(), NginxProcess.FreePort()];
        var instances = new AppProcess?[2];
        AppProcess? balancer = null;
        var balancerRoot = Directory.CreateTempSubdirectory("ps-rolling-");
        try
        {
            for (var i = 0; i < instances.Length; i++)
            {
                instances[i] = await StartInstanceAsync(ports[i]);
            }

            // A cold instance can take longer than a probe's timeout to answer its first /ready on a loaded
            // machine; the balancer would then start with both servers down and answer 502.
            await Task.WhenAll(Array.ConvertAll(ports, WarmAsync));

            var balancerPort = NginxProcess.FreePort();
            await File.WriteAllTextAsync(Path.Combine(balancerRoot.FullName, "appsettings.json"), BalancerSettings(balancerPort, ports));
            balancer = await AppProcess.StartQuickStartAsync("--contentRoot", balancerRoot.FullName);
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{balancerPort}"), Timeout = TestTimeouts.Long };

            using var load = new Load(client);
            var clients = new Task[Clients];
            for (var c = 0; c < Clients; c++)
            {
                clients[c] = load.RunAsync(c);
            }

            try
            {
                for (var i = 0; i < instances.Length; i++)
                {
                    // Both instances take traffic before each restart, so "again" means something.
                    await TakesTrafficAsync(client, ports);
                    instances[i]!.Terminate();
                    Assert.Equal(0, await instances[i]!.ExitCodeAsync(TestTimeouts.Long));
                    var before = Attempts(ports[i], await StatusAsync(client));
                    instances[i]!.Dispose();
                    instances[i] = await StartInstanceAsync(ports[i]);
                    await WarmAsync(ports[i]);
                    await Poll.UntilAsync(async () => Attempts(ports[i], await StatusAsync(client)) > before,
                        $"instance {i + 1} taking requests again after its restart", TestTimeouts.Long);
                }

                await TakesTrafficAsync(client, ports);
            }
            finally
            {
                load.Stop();
                await Task.WhenAll(clients).WaitAsync(TestTimeouts.Long);
            }

            output.WriteLine($"GET ok {load.GetOk}, POST ok {load.PostOk}, failed {load.Failures.Count}");
            Assert.True(load.Failures.IsEmpty, string.Join('\n', load.Failures.Take(20)));
            Assert.True(load.GetOk > 0 && load.PostOk > 0, $"GET ok {load.GetOk}, POST ok {load.PostOk}");
        }
        finally
        {
            foreach (var instance in instances)
            {
                instance?.Dispose();
            }

            balancer?.Dispose();
            balancerRoot.Delete(recursive: true);
        }
    }

    /// <summary>An instance: the sample as it is, on <paramref name="port"/>, with a drain delay above the balancer's probe interval and timeout.</summary>
    private static Task<AppProcess> StartInstanceAsync(int port) =>
        AppProcess.StartQuickStartAsync(
            "--contentRoot", Path.Combine(Repository.Root, "samples", "QuickStart"),
            "--Urls", $"http://127.0.0.1:{port}",
            "--ProductionServing:Upstreams:self:Servers:0:Address", $"http://127.0.0.1:{port}",
            "--ProductionServing:Shutdown:DrainDelay", "00:00:03");

    /// <summary>Sends an instance the requests the test makes of it once, directly, so its first answers through the balancer are not its first.</summary>
    private static async Task WarmAsync(int port)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TestTimeouts.Long };
        (await client.GetAsync(new Uri("/ready", UriKind.Relative))).EnsureSuccessStatusCode().Dispose();
        (await client.GetAsync(new Uri("/api/hello", UriKind.Relative))).EnsureSuccessStatusCode().Dispose();
        (await client.PostAsync(new Uri("/api/echo", UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode().Dispose();
    }

    /// <summary>
    /// The balancer: every request forwarded to the two instances, probed on /ready every 250 ms. One failed probe
    /// takes a server out, so the timeout is generous: the instance left serving everything during a restart must
    /// not be taken out by a slow answer on a loaded machine. A stopping instance answers 503 at once, well
    /// within its drain delay.
    /// </summary>
    private static string BalancerSettings(int port, int[] instances) => $$"""
        {
          "Urls": "http://127.0.0.1:{{port}}",
          "Logging": { "LogLevel": { "Default": "Information", "Microsoft.AspNetCore": "Warning" } },
          "ProductionServing": {
            "Locations": [ { "Match": "/", "Proxy": { "Pass": "http://instances" } } ],
            "Upstreams": {
              "instances": {
                "Servers": [ { "Address": "http://127.0.0.1:{{instances[0]}}" }, { "Address": "http://127.0.0.1:{{instances[1]}}" } ],
                "HealthCheck": { "Path": "/ready", "Interval": "00:00:00.250", "Timeout": "00:00:02" },
                "Retries": 1
              }
            },
            "Status": { "Path": "/_balancer" }
          }
        }
        """;

    /// <summary>Waits until both instances have taken a request since this was called.</summary>
    private static async Task TakesTrafficAsync(HttpClient client, int[] ports)
    {
        var status = await StatusAsync(client);
        var before = Array.ConvertAll(ports, port => Attempts(port, status));
        await Poll.UntilAsync(async () =>
        {
            var now = await StatusAsync(client);
            for (var i = 0; i < ports.Length; i++)
            {
                if (Attempts(ports[i], now) <= before[i])
                {
                    return false;
                }
            }

            return true;
        }, "both instances taking requests", TestTimeouts.Long);
    }

    /// <summary>The balancer's status.json (its own status page, matched before the proxy location).</summary>
    private static async Task<JsonElement> StatusAsync(HttpClient client)
    {
        using var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/_balancer/status.json", UriKind.Relative)));
        return json.RootElement.Clone();
    }

    /// <summary>The attempts the balancer made on the server at <paramref name="port"/>.</summary>
    private static long Attempts(int port, JsonElement root)
    {
        var address = "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        foreach (var group in root.GetProperty("upstreams").EnumerateArray())
        {
            foreach (var server in group.GetProperty("servers").EnumerateArray())
            {
                if (server.GetProperty("address").GetString() == address)
                {
                    return server.GetProperty("attempts").GetInt64();
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"The balancer's status has no server {address}: {root}");
    }

    /// <summary>
    /// Closed-loop clients, each sending GET /api/hello and POST /api/echo (a body of its own) in turn until
    /// stopped; anything but a 200 with the expected body is a failure, with what came instead.
    /// </summary>
    private sealed class Load(HttpClient client) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private long _getOk;
        private long _postOk;

        public long GetOk => Interlocked.Read(ref _getOk);

        public long PostOk => Interlocked.Read(ref _postOk);

        public ConcurrentQueue<string> Failures { get; } = new();

        public void Stop() => _stop.Cancel();

        public void Dispose() => _stop.Dispose();

        public async Task RunAsync(int id)
        {
            for (var n = 0; !_stop.IsCancellationRequested; n++)
            {
                var post = n % 2 == 1;
                var body = $$"""{"client":{{id}},"n":{{n}},"pad":"{{new string('x', n % 512)}}"}""";
                try
                {
                    using var response = post
                        ? await client.PostAsync(new Uri("/api/echo", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"))
                        : await client.GetAsync(new Uri("/api/hello", UriKind.Relative));
                    var text = await response.Content.ReadAsStringAsync();
                    var expected = post ? body : "{\"message\":\"hello\",\"location\":\"^~ /api/\"}";
                    if (response.StatusCode != HttpStatusCode.OK || text != expected)
                    {
                        Failures.Enqueue($"{(post ? "POST" : "GET")} #{n} of client {id}: {(int)response.StatusCode} {text}");
                    }
                    else if (post)
                    {
                        Interlocked.Increment(ref _postOk);
                    }
                    else
                    {
                        Interlocked.Increment(ref _getOk);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    Failures.Enqueue($"{(post ? "POST" : "GET")} #{n} of client {id}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }
    }
}
