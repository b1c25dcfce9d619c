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
        var rss = ReadRss(pid);
        var fds = Count($"/proc/{pid}/fd");
        var threads = Count($"/proc/{pid}/task");
        long heap = -1, fullHeap = -1;
        var result = await LoadMix.SendOnceAsync(async ct =>
        {
            using var response = await client.GetAsync("/__soak/gc", ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (Outcome.ErrorStatus, $"GET /__soak/gc: {(int)response.StatusCode}");
            }

            heap = Field(text, "heap");
            fullHeap = Field(text, "full_heap");
            return (Outcome.Ok, null);
        }, stop);
        if (result is not { } r)
        {
            return null;
        }

        counters.Add(sampleKind, r.Outcome, r.Message);

        var now = counters.Snapshot();
        var at = Stopwatch.GetTimestamp();
        var byOutcome = new long[Counters.Outcomes];
        for (var i = 0; i < now.Length; i++)
        {
            byOutcome[i % Counters.Outcomes] += now[i] - previous[i];
        }

        var sample = new Sample(
            (at - zero) / (double)Stopwatch.Frequency, rss, heap, fullHeap, fds, threads,
            (at - previousAt) / (double)Stopwatch.Frequency, byOutcome);
        return (sample, now, at);
    }

    private static long ReadRss(int pid)
    {
        // "VmRSS:     123456 kB" (proc(5)).
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS line");
    }

    private static int Count(string folder) => Directory.EnumerateFileSystemEntries(folder).Count();

    private static long Field(string text, string name)
    {
        foreach (var pair in text.Split(' ', StringSplitOptions.TrimEntries))
        {
            if (pair.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return long.Parse(pair[(name.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }
}
