using System.Globalization;
using System.Text;

namespace ProductionServing.DeployBench;

/// <summary>
/// Writes results.csv, warmup.csv and latency.csv, and the Markdown summary (summary.md, also returned):
/// medians over the rounds, ratios computed inside each round (both figures from the same round) and
/// their median, and which of the targets in docs/performance.md the run met.
/// </summary>
internal static class Report
{
    public static readonly double[] Percentiles = [50, 90, 99, 99.9, 99.99];

    public static string Write(Settings settings, IReadOnlyList<Measurement> measurements, IReadOnlyList<Curve> curves)
    {
        WriteCsv(settings, measurements, curves);
        var text = new StringBuilder();
        var rounds = settings.Rounds;
        text.AppendLine(I($"## Deployment benchmark: nginx + Kestrel (classic) vs Kestrel + UseProductionServing (library)"));
        text.AppendLine();
        text.AppendLine(I($"Server on CPU {settings.ServerCpu}, load generator on CPU {settings.LoadCpu}; {rounds} round(s), medians; ") +
            I($"ratios are library ÷ classic inside each round, then their median. {settings.Connections} connections, ") +
            I($"{settings.Duration:0.#} s per measurement after {settings.WarmupSeconds} s of warm-up; Accept-Encoding: {settings.AcceptEncoding}."));
        text.AppendLine();
        text.AppendLine("### Steady state (closed loop)");
        text.AppendLine();
        text.AppendLine("CPU µs/req: the server core's CPU time (every process of the deployment) per request; core use: the server's and the load generator's share of their cores during the run (a load core near 100 % means the generator was the limit).");
        text.AppendLine();
        text.AppendLine("| workload | classic req/s | library req/s | library ÷ classic | classic CPU µs/req | library CPU µs/req | classic p99 | library p99 | core use classic / library (server, load) |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        var targets = new List<(string Target, string Measured, bool? Met)>();
        foreach (var workload in Workload.Names)
        {
            var classic = Closed(measurements, workload, "classic");
            var library = Closed(measurements, workload, "library");
            var ratio = RatioMedian(classic, library, m => m.Result.RequestsPerSecond);
            text.AppendLine(I($"| {workload} | {Median(classic, m => m.Result.RequestsPerSecond):N0} | {Median(library, m => m.Result.RequestsPerSecond):N0} | {ratio:F2}× | ") +
                I($"{Median(classic, m => m.CpuMicrosecondsPerRequest):F1} | {Median(library, m => m.CpuMicrosecondsPerRequest):F1} | ") +
                I($"{Ms(Median(classic, m => m.Result.Latency.Percentile(99)))} | {Ms(Median(library, m => m.Result.Latency.Percentile(99)))} | ") +
                I($"{Median(classic, m => m.ServerCoreUse):P0}, {Median(classic, m => m.LoadCoreUse):P0} / {Median(library, m => m.ServerCoreUse):P0}, {Median(library, m => m.LoadCoreUse):P0} |"));
            var goal = workload switch { "app" or "ping" => 4.0, "mix" => 2.5, _ => 0.9 };
            targets.Add((I($"steady {workload} ≥ {goal}× classic"), I($"{ratio:F2}×"), ratio >= goal));
        }

        text.AppendLine();
        var open = measurements.Where(m => m.OpenLoop).ToList();
        text.AppendLine(I($"### Fixed rate (open loop, the mix, {string.Join(" / ", open.Select(m => m.Rate).Distinct().Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))} req/s)"));
        text.AppendLine();
        text.AppendLine("Latency from each request's intended send time (coordinated omission corrected); service time from its actual send.");
        text.AppendLine();
        text.AppendLine("| deployment | achieved req/s | p50 | p90 | p99 | p99.9 | service p99 | CPU µs/req | server core | errors |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var deployment in new[] { "classic", "library" })
        {
            var rows = open.Where(m => m.Deployment == deployment).ToList();
            text.AppendLine(I($"| {deployment} | {Median(rows, m => m.Result.RequestsPerSecond):N0} | {Ms(Median(rows, m => m.Result.Latency.Percentile(50)))} | ") +
                I($"{Ms(Median(rows, m => m.Result.Latency.Percentile(90)))} | {Ms(Median(rows, m => m.Result.Latency.Percentile(99)))} | ") +
                I($"{Ms(Median(rows, m => m.Result.Latency.Percentile(99.9)))} | {Ms(Median(rows, m => m.Result.Service.Percentile(99)))} | ") +
                I($"{Median(rows, m => m.CpuMicrosecondsPerRequest):F1} | {Median(rows, m => m.ServerCoreUse):P0} | {rows.Sum(m => m.Result.Errors)} |"));
        }

        var p99Ratio = RatioMedian(open.Where(m => m.Deployment == "classic").ToList(), open.Where(m => m.Deployment == "library").ToList(), m => m.Result.Latency.Percentile(99));
        var sustained = open.All(m => m.Result.RequestsPerSecond >= 0.95 * m.Rate);
        targets.Add(("fixed-rate mix p99 ≤ classic's", I($"{p99Ratio:F2}× classic's") + (sustained ? "" : " (a deployment fell below 95 % of the rate)"), p99Ratio <= 1 && sustained));

        text.AppendLine();
        text.AppendLine(I($"### Warm-up: the first {settings.WarmupSeconds} s after start (closed loop, {settings.Connections} connections)"));
        text.AppendLine();
        text.AppendLine("Steady = median req/s over the curve's last third; time to 90 % = the number of the first whole second (from 1) after start from which every second reaches 90 % of steady; smoothed: the same over the median of each second and its neighbours (one slow second does not count).");
        text.AppendLine();
        text.AppendLine("| variant | workload | first 10 s req/s | steady req/s | steady ÷ library's | time to 90 % | smoothed | what |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---|");
        foreach (var workload in curves.Select(c => c.Workload).Distinct())
        {
            foreach (var variant in settings.Variants)
            {
                var rows = curves.Where(c => c.Workload == workload && c.Variant == variant.Name).ToList();
                if (rows.Count == 0)
                {
                    continue;
                }

                var library = curves.Where(c => c.Workload == workload && c.Variant == "library").ToList();
                var steadyRatio = Stats.Median(rows.Select(c => library.FirstOrDefault(l => l.Round == c.Round) is { } l && l.Steady > 0 ? c.Steady / l.Steady : double.NaN).Where(v => !double.IsNaN(v)));
                text.AppendLine(I($"| {variant.Name} | {workload} | {Stats.Median(rows.Select(c => c.Cold)):N0} | {Stats.Median(rows.Select(c => c.Steady)):N0} | {steadyRatio:F2}× | {T90(rows, c => c.SecondsTo90)} | {T90(rows, c => c.SecondsTo90Smoothed)} | {variant.Description} |"));
            }
        }

        var coldClassic = curves.Where(c => c.Workload == "static" && c.Variant == "classic").ToList();
        var coldLibrary = curves.Where(c => c.Workload == "static" && c.Variant == "library").ToList();
        if (coldClassic.Count > 0 && coldLibrary.Count > 0)
        {
            var cold = Stats.Median(coldLibrary.Select(l => coldClassic.FirstOrDefault(c => c.Round == l.Round) is { Cold: > 0 } c ? l.Cold / c.Cold : double.NaN).Where(v => !double.IsNaN(v)));
            targets.Add(("cold static (first 10 s) ≥ 0.45× classic", I($"{cold:F2}×"), cold >= 0.45));
        }
        else
        {
            targets.Add(("cold static (first 10 s) ≥ 0.45× classic", "not measured (CURVE_WORKLOADS has no static)", null));
        }

        foreach (var workload in curves.Select(c => c.Workload).Distinct())
        {
            var rows = curves.Where(c => c.Workload == workload && c.Variant == settings.Recommended).ToList();
            var seconds = Stats.Median(rows.Select(c => (double)(c.SecondsTo90 ?? int.MaxValue)));
            targets.Add((I($"{settings.Recommended} time to 90 % on {workload} ≤ 5 s"),
                I($"{T90(rows, c => c.SecondsTo90)} (smoothed {T90(rows, c => c.SecondsTo90Smoothed)})"), seconds <= 5));
        }

        text.AppendLine();
        text.AppendLine("### Targets");
        text.AppendLine();
        text.AppendLine("| target | measured | met |");
        text.AppendLine("|---|---|---|");
        foreach (var (target, measured, met) in targets)
        {
            text.AppendLine(I($"| {target} | {measured} | {(met switch { true => "yes", false => "no", null => "—" })} |"));
        }

        var summary = text.ToString();
        File.WriteAllText(Path.Combine(settings.Output, "summary.md"), summary);
        return summary;
    }

    private static List<Measurement> Closed(IReadOnlyList<Measurement> measurements, string workload, string deployment) =>
        measurements.Where(m => !m.OpenLoop && m.Workload == workload && m.Deployment == deployment).ToList();

    private static double Median(IEnumerable<Measurement> rows, Func<Measurement, double> value) => Stats.Median(rows.Select(value));

    private static double RatioMedian(List<Measurement> classic, List<Measurement> library, Func<Measurement, double> value) =>
        Stats.Median(library.Select(l => classic.FirstOrDefault(c => c.Round == l.Round) is { } c && value(c) > 0 ? value(l) / value(c) : double.NaN).Where(v => !double.IsNaN(v)));

    private static string T90(List<Curve> rows, Func<Curve, int?> secondsTo90)
    {
        var seconds = Stats.Median(rows.Select(c => (double)(secondsTo90(c) ?? int.MaxValue)));
        return seconds >= int.MaxValue ? "never" : I($"{seconds:0.#} s");
    }

    private static string Ms(double microseconds) => double.IsNaN(microseconds) ? "—" : I($"{microseconds / 1000:F2} ms");

    private static string I(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

    private static void WriteCsv(Settings settings, IReadOnlyList<Measurement> measurements, IReadOnlyList<Curve> curves)
    {
        var results = new StringBuilder("round,workload,deployment,loop,rate,connections,seconds,requests,errors,req_per_s,p50_us,p90_us,p99_us,p999_us,cpu_us_per_req,server_core_use,load_core_use\n");
        foreach (var m in measurements)
        {
            var r = m.Result;
            results.Append(I($"{m.Round},{m.Workload},{m.Deployment},{(m.OpenLoop ? "open" : "closed")},{m.Rate:F0},{settings.Connections},{r.Seconds:F1},{r.Requests},{r.Errors},"))
                .Append(I($"{r.RequestsPerSecond:F1},{r.Latency.Percentile(50)},{r.Latency.Percentile(90)},{r.Latency.Percentile(99)},{r.Latency.Percentile(99.9)},"))
                .Append(I($"{m.CpuMicrosecondsPerRequest:F2},{m.ServerCoreUse:F3},{m.LoadCoreUse:F3}\n"));
        }

        File.WriteAllText(Path.Combine(settings.Output, "results.csv"), results.ToString());

        var warmup = new StringBuilder("round,variant,workload,second,req_per_s\n");
        foreach (var curve in curves)
        {
            for (var s = 0; s < curve.PerSecond.Length; s++)
            {
                warmup.Append(I($"{curve.Round},{curve.Variant},{curve.Workload},{s + 1},{curve.PerSecond[s]}\n"));
            }
        }

        File.WriteAllText(Path.Combine(settings.Output, "warmup.csv"), warmup.ToString());

        var latency = new StringBuilder("round,deployment,rate,achieved_req_per_s,percentile,latency_us,service_us\n");
        foreach (var m in measurements.Where(m => m.OpenLoop))
        {
            foreach (var p in Percentiles)
            {
                latency.Append(I($"{m.Round},{m.Deployment},{m.Rate:F0},{m.Result.RequestsPerSecond:F1},{p},{m.Result.Latency.Percentile(p)},{m.Result.Service.Percentile(p)}\n"));
            }
        }

        File.WriteAllText(Path.Combine(settings.Output, "latency.csv"), latency.ToString());
    }
}
