using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace ProductionServing.Soak;

/// <summary>
/// Samples the host from outside every few seconds: <c>VmRSS</c> from <c>/proc/[pid]/status</c>, the
/// entries of <c>/proc/[pid]/task</c> (threads) and <c>/proc/[pid]/fd</c> (open descriptors, sockets
/// included), and the GC figures from the host's <c>GET /__soak/gc</c>; with each sample, the
/// requests the counters saw since the previous one.
/// </summary>
internal sealed class Sampler(ServerProcess host, Counters counters, int sampleKind)
{
    private readonly List<Sample> _samples = [];

    public IReadOnlyList<Sample> Samples => _samples;

    public async Task RunAsync(long zero, TimeSpan every, CancellationToken stop)
    {
        using var client = LoadMix.CreateClient(host.BaseAddress, drain: true);
        var previous = counters.Snapshot();
        var previousAt = zero;
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                // A sample whose GC request the run's end cancelled is left out.
                if (await TakeAsync(client, zero, previous, previousAt, stop) is not { } taken)
                {
                    break;
                }

                (var sample, previous, previousAt) = taken;
                _samples.Add(sample);
            }
        }
        catch (OperationCanceledException)
        {
            // The run's end.
        }
    }

    private async Task<(Sample Sample, long[] Totals, long At)?> TakeAsync(HttpClient client, long zero, long[] previous, long previousAt, CancellationToken stop)
    {
        var pid = host.Pid;
        var status = ReadStatus(pid);
        var fds = Count($"/proc/{pid}/fd");
        var threads = Count($"/proc/{pid}/task");
        if (await ReadGcAsync(client, collect: false, stop) is not { } gc)
        {
            return null;
        }

        var now = counters.Snapshot();
        var at = Stopwatch.GetTimestamp();
        var byOutcome = new long[Counters.Outcomes];
        for (var i = 0; i < now.Length; i++)
        {
            byOutcome[i % Counters.Outcomes] += now[i] - previous[i];
        }

        var sample = new Sample((at - zero) / (double)Stopwatch.Frequency, (at - previousAt) / (double)Stopwatch.Frequency, byOutcome)
        {
            RssBytes = status.GetValueOrDefault("VmRSS"),
            RssAnonBytes = status.GetValueOrDefault("RssAnon"),
            RssFileBytes = status.GetValueOrDefault("RssFile"),
            RssShmemBytes = status.GetValueOrDefault("RssShmem"),
            GcHeapBytes = gc.GetValueOrDefault("heap", -1),
            GcFullHeapBytes = gc.GetValueOrDefault("full_heap", -1),
            GcCommittedBytes = gc.GetValueOrDefault("committed", -1),
            Gen0Collections = gc.GetValueOrDefault("gen0", -1),
            Gen2Collections = gc.GetValueOrDefault("gen2", -1),
            Fds = fds,
            Threads = threads,
        };
        return (sample, now, at);
    }

    /// <summary>
    /// Asks the host for its GC figures (with <paramref name="collect"/>, after a forced full
    /// collection) and counts the request; an empty dictionary when it failed, null when the run ended
    /// while it was in flight.
    /// </summary>
    public async Task<Dictionary<string, long>?> ReadGcAsync(HttpClient client, bool collect, CancellationToken stop)
    {
        var fields = new Dictionary<string, long>(StringComparer.Ordinal);
        var result = await LoadMix.SendOnceAsync(async ct =>
        {
            using var response = await client.GetAsync(collect ? "/__soak/gc?collect=true" : "/__soak/gc", ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (Outcome.ErrorStatus, $"GET /__soak/gc: {(int)response.StatusCode}");
            }

            foreach (var pair in text.Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                fields[pair[..equals]] = long.Parse(pair[(equals + 1)..], CultureInfo.InvariantCulture);
            }

            return (Outcome.Ok, null);
        }, stop);
        if (result is not { } r)
        {
            return null;
        }

        counters.Add(sampleKind, r.Outcome, r.Message);
        return fields;
    }

    private static Dictionary<string, long> ReadStatus(int pid)
    {
        // Lines such as "VmRSS:     123456 kB" (proc(5)); every figure kept here is in kB.
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.EndsWith(" kB", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is var colon and > 0)
            {
                values[line[..colon]] = long.Parse(line[(colon + 1)..^3].Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        return values;
    }

    private static int Count(string folder) => Directory.EnumerateFileSystemEntries(folder).Count();
}
