using System.Diagnostics;
using System.Globalization;
using ProductionServing.Soak;

// The runner of tests/load/soak (which builds the projects and gives this process their paths). Usage:
//   ProductionServing.Soak --host <SoakHost apphost> --backend <LoadServer apphost> --temp <folder>
// with DURATION, WARMUP, SAMPLE, RELOAD and OUTPUT in the environment (Settings). Writes
// OUTPUT/soak.csv, OUTPUT/soak.png and OUTPUT/summary.md, prints the summary, and exits 0 on PASS,
// 1 on FAIL.
Settings settings;
try
{
    settings = Settings.Read(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine("soak: " + ex.Message);
    return 2;
}

Directory.CreateDirectory(settings.Output);
var logs = Path.Combine(settings.Temp, "logs");
Directory.CreateDirectory(logs);
SoakConfig.WriteFiles(settings);

using var backend = ServerProcess.Start("backend", settings.Backend, logs, "--mode", "backend");
await backend.WaitReadyAsync("/json");
SoakConfig.Write(settings, backend.Port, generation: 0);
using var host = ServerProcess.Start("host", settings.Host, logs, "--config", settings.ConfigPath);
await host.WaitReadyAsync("/__soak/generation");
Say($"upstream pid {backend.Pid} on {backend.BaseAddress}, host pid {host.Pid} on {host.BaseAddress}; " +
    $"{settings.Duration} s of load, warm-up {settings.Warmup} s, a sample every {settings.SampleEvery} s, a reload every {settings.ReloadEvery} s");

using var mix = new LoadMix(host.BaseAddress);
var counters = new Counters([.. mix.Kinds.Select(k => k.Name), "reload", "sample"]);
var sampler = new Sampler(host, counters, sampleKind: mix.Kinds.Count + 1);
var reloader = new Reloader(settings, host, backend.Port, counters, reloadKind: mix.Kinds.Count);

using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(settings.Duration));
var zero = Stopwatch.GetTimestamp();
var live = new LiveHeap();
using var gcClient = LoadMix.CreateClient(host.BaseAddress, drain: true);
await Task.WhenAll(
    mix.RunAsync(counters, stop.Token),
    sampler.RunAsync(zero, TimeSpan.FromSeconds(settings.SampleEvery), stop.Token),
    reloader.RunAsync(TimeSpan.FromSeconds(settings.ReloadEvery), stop.Token),
    LiveHeapAfterWarmupAsync(stop.Token),
    ProgressAsync(stop.Token));

var failures = new List<string>();
if (host.HasExited)
{
    failures.Add($"the host exited during the run (see {host.Log})");
}
else
{
    var fields = await sampler.ReadGcAsync(gcClient, collect: true, CancellationToken.None);
    live.AtEnd = LiveHeap.From(fields);
    live.RawAtEnd = LiveHeap.Raw(fields);
}

if (!live.Flat)
{
    failures.Add(live.Measured
        ? string.Create(CultureInfo.InvariantCulture, $"the live managed heap grew by {(live.AtEnd - live.AfterWarmup) / 1048576.0:F2} MiB")
        : "the live managed heap was not measured");
}

host.Dispose();
backend.Dispose();

var samples = sampler.Samples;
var window = samples.Where(s => s.Seconds >= settings.Warmup).ToList();
var flatness = new List<FlatnessResult>();
if (window.Count < 3)
{
    failures.Add($"only {window.Count} samples after the warm-up; 3 at least are needed");
}
else
{
    flatness.AddRange(FlatnessRule.All.Select(rule => rule.Check(window)));
    failures.AddRange(flatness.Where(r => !r.Flat).Select(r =>
        $"{r.Rule.Name} grew by {r.Rule.Format(r.Growth)} after the warm-up (bound {r.Rule.Format(r.Bound)})"));
}

if (samples.Any(s => s.GcHeapBytes < 0))
{
    failures.Add("a GC sample failed");
}

var errors = Report.Errors(counters.Snapshot());
if (errors > 0)
{
    failures.Add($"{errors:N0} errors");
}

var hostLog = HostLog.Read(host.Log);
if (hostLog.Failures > 0)
{
    failures.Add($"the host logged {hostLog.Failures} errors (see {host.Log})");
}

var csv = Path.Combine(settings.Output, "soak.csv");
var png = Path.Combine(settings.Output, "soak.png");
Report.WriteCsv(csv, samples);
if (samples.Count > 0)
{
    Chart.Write(png, samples, settings.Warmup, flatness,
        $"Soak, {settings.Duration / 60.0:0.#} min of mixed load: {(failures.Count == 0 ? "PASS" : "FAIL")}");
}

var summary = Report.Summary(settings, mix.Kinds, counters, samples, flatness, reloader, live, hostLog, failures);
File.WriteAllText(Path.Combine(settings.Output, "summary.md"), summary);
Console.WriteLine(summary);
Say($"done: {settings.Output} (soak.csv, soak.png, summary.md)");
return failures.Count == 0 ? 0 : 1;

async Task LiveHeapAfterWarmupAsync(CancellationToken token)
{
    try
    {
        await Task.Delay(TimeSpan.FromSeconds(settings.Warmup), token);
    }
    catch (OperationCanceledException)
    {
        return;
    }

    var fields = await sampler.ReadGcAsync(gcClient, collect: true, token);
    live.AfterWarmup = LiveHeap.From(fields);
    live.RawAfterWarmup = LiveHeap.Raw(fields);
}

async Task ProgressAsync(CancellationToken token)
{
    // One line a minute (or every fifth of a shorter run) on stderr, from the latest sample.
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(settings.Duration / 5, 5, 60)));
    try
    {
        while (await timer.WaitForNextTickAsync(token))
        {
            if (sampler.Samples is [.., var s])
            {
                Say(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Seconds:F0} s: RSS {s.RssBytes / 1048576.0:F1} MiB, GC heap {s.GcHeapBytes / 1048576.0:F1} MiB, {s.Fds} fds, {s.Threads} threads, " +
                    $"{s.Requests / s.Interval:F0} req/s, errors so far {Report.Errors(counters.Snapshot())}, reloads {reloader.Seconds.Count}/{reloader.Generation}"));
            }
        }
    }
    catch (OperationCanceledException)
    {
        // The run's end.
    }
}

static void Say(string message) => Console.Error.WriteLine("[soak] " + message);
