using System.Diagnostics;
using System.Net;

namespace ProductionServing.Soak;

/// <summary>
/// Reloads the host's configuration every few seconds (a minute by default): rewrites its file with the
/// next generation, then asks <c>GET /__soak/generation</c> every 100 ms until it answers the new
/// generation (at most <see cref="Patience"/>), and checks that a static file now carries the new
/// <c>X-Soak-Generation</c> header. A reload that does not take effect is an error.
/// </summary>
internal sealed class Reloader(Settings settings, ServerProcess host, int backendPort, Counters counters, int reloadKind)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly List<double> _seconds = [];

    /// <summary>How long each reload that took effect took to show, in seconds from the file's rename.</summary>
    public IReadOnlyList<double> Seconds => _seconds;

    /// <summary>The reloads started: the last one may have been cut short by the run's end, unchecked.</summary>
    public int Generation { get; private set; }

    /// <summary>The reloads that did not take effect, or whose check failed.</summary>
    public int Failed { get; private set; }

    /// <summary>Whether the run ended while the last reload was being checked.</summary>
    public bool Interrupted { get; private set; }

    public async Task RunAsync(TimeSpan every, CancellationToken stop)
    {
        using var client = LoadMix.CreateClient(host.BaseAddress, drain: true);
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Generation++;
                SoakConfig.Write(settings, backendPort, Generation);
                var written = Stopwatch.GetTimestamp();
                var (outcome, message) = await WaitForAsync(client, Generation, stop);
                if (outcome == Outcome.Ok)
                {
                    _seconds.Add(Stopwatch.GetElapsedTime(written).TotalSeconds);
                }
                else
                {
                    Failed++;
                }

                counters.Add(reloadKind, outcome, message);
            }
        }
        catch (OperationCanceledException)
        {
            // The run's end, possibly while a reload was being checked: that one is not counted.
            Interrupted = Generation > 0 && _seconds.Count + Failed < Generation;
        }
    }

    private static async Task<(Outcome, string?)> WaitForAsync(HttpClient client, int generation, CancellationToken stop)
    {
        var expected = $"generation {generation}\n";
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        string? last = null;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var result = await LoadMix.SendOnceAsync(async ct =>
            {
                using var response = await client.GetAsync("/__soak/generation", ct);
                last = await response.Content.ReadAsStringAsync(ct);
                return response.StatusCode == HttpStatusCode.OK
                    ? (Outcome.Ok, null)
                    : (Outcome.ErrorStatus, $"GET /__soak/generation: {(int)response.StatusCode}");
            }, stop) ?? throw new OperationCanceledException(stop);
            if (result.Outcome != Outcome.Ok)
            {
                return result;
            }

            if (last == expected)
            {
                return await CheckStaticHeaderAsync(client, generation, stop);
            }

            await Task.Delay(100, stop);
        }

        return (Outcome.ErrorOther, $"reload to generation {generation} not in effect after {Patience.TotalSeconds:F0} s (still '{last?.Trim()}')");
    }

    private static async Task<(Outcome, string?)> CheckStaticHeaderAsync(HttpClient client, int generation, CancellationToken stop)
    {
        var result = await LoadMix.SendOnceAsync(async ct =>
        {
            using var response = await client.GetAsync("/static/1k.bin", ct);
            var header = response.Headers.TryGetValues("X-Soak-Generation", out var values) ? string.Join(",", values) : null;
            return response.StatusCode != HttpStatusCode.OK ? (Outcome.ErrorStatus, $"GET /static/1k.bin: {(int)response.StatusCode}")
                : header == $"{generation}" ? (Outcome.Ok, null)
                : (Outcome.ErrorOther, $"generation {generation} answered, but the static location's X-Soak-Generation is '{header}'");
        }, stop);
        return result ?? throw new OperationCanceledException(stop);
    }
}
