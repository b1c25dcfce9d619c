using System.Diagnostics;
using ProductionServing.DeployBench;

// The runner of tests/load/deploy (which publishes the app and starts this process pinned to the load
// core). Usage: ProductionServing.DeployBench --app <apphost> --app-r2r <apphost> --nginx <nginx> --temp <folder>
// with the knobs in the environment (Settings). Writes OUTPUT/{results,warmup,latency}.csv, the charts
// and summary.md, and prints the summary.
Settings settings;
try
{
    settings = Settings.Read(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine("deploybench: " + ex.Message);
    return 2;
}

Directory.CreateDirectory(settings.Output);
var assetPaths = Assets.Generate(settings.Assets);
var workloads = Workload.Names.ToDictionary(name => name, name => Workload.Create(name, assetPaths, settings.AcceptEncoding));
var progress = new Progress(settings);
var measurements = new List<Measurement>();
var curves = new List<Curve>();
Progress.Say($"{assetPaths.Count} assets in {settings.Assets}; server CPU {settings.ServerCpu}, load CPU {settings.LoadCpu}; " +
    $"{settings.Rounds} round(s), about {Progress.Format(progress.Remaining)} in all");

// The generator's own code is compiled by the JIT too: 5 s of each workload against a throwaway
// library deployment first, so the first curve of the run does not start with a cold generator.
using (var warm = Deployment.Start(Variant.Library, settings, "generator-warmup"))
{
    progress.GeneratorWarmup();
    await warm.WaitReadyAsync(assetPaths[0]);
    foreach (var workload in Workload.Names)
    {
        await new LoadGenerator(warm.Endpoint, workloads[workload], settings.Connections).RunClosedAsync(Stopwatch.GetTimestamp(), 5);
    }
}

for (var round = 1; round <= settings.Rounds; round++)
{
    // Steady state: classic and library started fresh, each warmed by WARMUP_SECONDS of the mix (its
    // warm-up curve), then every workload on both, alternating which goes first.
    var pair = round % 2 == 1 ? new[] { Variant.Classic, Variant.Library } : [Variant.Library, Variant.Classic];
    var running = new Dictionary<string, Deployment>();
    try
    {
        foreach (var variant in pair)
        {
            var deployment = Deployment.Start(variant, settings, $"r{round}-{variant.Name}-steady");
            running[variant.Name] = deployment;
            curves.Add(await RunCurveAsync(round, deployment, "mix"));
            await deployment.WaitReadyAsync(assetPaths[0]);
        }

        for (var w = 0; w < Workload.Names.Length; w++)
        {
            var workload = Workload.Names[w];
            foreach (var variant in w % 2 == 0 ? pair : pair.Reverse())
            {
                progress.Step(round, $"steady {workload}, {variant.Name}", settings.Duration);
                measurements.Add(await MeasureAsync(round, running[variant.Name], workload, rate: null));
            }
        }

        var rate = settings.Rate > 0 ? settings.Rate : Math.Round(0.6 * measurements
            .Where(m => m.Round == round && m.Workload == "mix" && !m.OpenLoop).Min(m => m.Result.RequestsPerSecond) / 100) * 100;
        foreach (var variant in pair.Reverse())
        {
            progress.Step(round, $"fixed rate {rate:F0}/s on the mix, {variant.Name}", settings.Duration);
            measurements.Add(await MeasureAsync(round, running[variant.Name], "mix", Math.Max(rate, 100)));
        }
    }
    finally
    {
        foreach (var deployment in running.Values)
        {
            deployment.Dispose();
        }
    }

    // The other warm-up curves, each from a fresh start, the variants' order rotated every round.
    foreach (var workload in settings.CurveWorkloads)
    {
        var order = settings.Variants.Skip((round - 1) % settings.Variants.Count).Concat(settings.Variants.Take((round - 1) % settings.Variants.Count));
        foreach (var variant in order)
        {
            if (workload == "mix" && (variant == Variant.Classic || variant == Variant.Library))
            {
                continue; // measured above, as the steady state's warm-up
            }

            using var deployment = Deployment.Start(variant, settings, $"r{round}-{variant.Name}-{workload}");
            curves.Add(await RunCurveAsync(round, deployment, workload));
        }
    }
}

var summary = Report.Write(settings, measurements, curves);
Charts.Write(settings, measurements, curves);
Console.WriteLine(summary);
Progress.Say($"done: {settings.Output} (results.csv, warmup.csv, latency.csv, summary.md, *.png)");
return 0;

async Task<Curve> RunCurveAsync(int round, Deployment deployment, string workload)
{
    progress.Step(round, $"warm-up curve {workload}, {deployment.Variant.Name}", settings.WarmupSeconds);
    var generator = new LoadGenerator(deployment.Endpoint, workloads[workload], settings.Connections);
    var result = await generator.RunClosedAsync(deployment.StartedAt, settings.WarmupSeconds, second =>
    {
        if (second % 10 == 0)
        {
            progress.Tick(round, $"warm-up curve {workload}, {deployment.Variant.Name}", second, settings.WarmupSeconds);
        }
    });
    var curve = new Curve(round, deployment.Variant.Name, workload, result.PerSecond);
    Progress.Say($"    {deployment.Variant.Name} {workload}: first 10 s {curve.Cold:F0} req/s, steady {curve.Steady:F0} req/s, " +
        $"90 % from second {curve.SecondsTo90?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "never"}, {result.Errors} errors");
    return curve;
}

async Task<Measurement> MeasureAsync(int round, Deployment deployment, string workload, double? rate)
{
    var generator = new LoadGenerator(deployment.Endpoint, workloads[workload], settings.Connections);
    var cpuBefore = deployment.CpuSeconds();
    var loadBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var result = rate is { } r
        ? await generator.RunOpenAsync(r, settings.Duration)
        : await generator.RunClosedAsync(Stopwatch.GetTimestamp(), settings.Duration);
    var cpu = deployment.CpuSeconds() - cpuBefore;
    var load = (Process.GetCurrentProcess().TotalProcessorTime - loadBefore).TotalSeconds;
    var measurement = new Measurement(round, workload, deployment.Variant.Name, rate is not null, rate ?? 0, result, cpu, load);
    Progress.Say($"    {result.RequestsPerSecond:F0} req/s, p50 {result.Latency.Percentile(50)} µs, p99 {result.Latency.Percentile(99)} µs, " +
        $"{measurement.CpuMicrosecondsPerRequest:F1} µs CPU/request, server core {measurement.ServerCoreUse:P0}, load core {measurement.LoadCoreUse:P0}, {result.Errors} errors");
    return measurement;
}
