using ScottPlot;

namespace ProductionServing.DeployBench;

/// <summary>
/// The PNG charts, drawn with ScottPlot from the same medians as the summary: req/s per workload
/// (grouped bars), latency percentiles at the fixed rate (grouped bars), and one warm-up curve chart
/// per curve workload (req/s per second after start, one line per variant, median over rounds).
/// </summary>
internal static class Charts
{
    private static readonly string[] Deployments = ["classic", "library"];

    public static void Write(Settings settings, IReadOnlyList<Measurement> measurements, IReadOnlyList<Curve> curves)
    {
        var palette = new ScottPlot.Palettes.Category10();

        GroupedBars(
            Path.Combine(settings.Output, "throughput.png"),
            $"Steady state, {settings.Connections} connections (median of {settings.Rounds} round(s))",
            "requests per second",
            Workload.Names,
            Deployments,
            (workload, deployment) => Stats.Median(measurements.Where(m => !m.OpenLoop && m.Workload == workload && m.Deployment == deployment).Select(m => m.Result.RequestsPerSecond)),
            palette);

        var open = measurements.Where(m => m.OpenLoop).ToList();
        var rate = open.Count == 0 ? 0 : Stats.Median(open.Select(m => m.Rate));
        GroupedBars(
            Path.Combine(settings.Output, "latency.png"),
            $"Mix at a fixed {rate:F0} req/s: latency from intended send time",
            "milliseconds",
            Report.Percentiles.Take(4).Select(p => $"p{p}").ToArray(),
            Deployments,
            (percentile, deployment) => Stats.Median(open.Where(m => m.Deployment == deployment)
                .Select(m => m.Result.Latency.Percentile(double.Parse(percentile[1..], System.Globalization.CultureInfo.InvariantCulture)) / 1000.0)),
            palette);

        foreach (var workload in curves.Select(c => c.Workload).Distinct())
        {
            var plot = new Plot();
            var index = 0;
            foreach (var variant in settings.Variants)
            {
                var rows = curves.Where(c => c.Workload == workload && c.Variant == variant.Name).ToList();
                if (rows.Count == 0)
                {
                    continue;
                }

                var seconds = rows.Min(c => c.PerSecond.Length);
                var xs = Enumerable.Range(1, seconds).Select(s => (double)s).ToArray();
                var ys = xs.Select(s => Stats.Median(rows.Select(c => (double)c.PerSecond[(int)s - 1]))).ToArray();
                var line = plot.Add.Scatter(xs, ys, palette.GetColor(index++));
                line.LegendText = variant.Name;
                line.MarkerSize = 0;
                line.LineWidth = 2;
            }

            plot.Title($"Warm-up, {workload}: req/s in each second after start (median of {settings.Rounds} round(s))");
            plot.XLabel("seconds after start");
            plot.YLabel("requests per second");
            plot.Axes.Margins(bottom: 0);
            plot.ShowLegend(Alignment.LowerRight);
            plot.SavePng(Path.Combine(settings.Output, $"warmup-{workload}.png"), 1000, 560);
        }
    }

    private static void GroupedBars(string path, string title, string yLabel, string[] groups, string[] series,
        Func<string, string, double> value, ScottPlot.Palettes.Category10 palette)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        for (var g = 0; g < groups.Length; g++)
        {
            for (var s = 0; s < series.Length; s++)
            {
                var v = value(groups[g], series[s]);
                bars.Add(new Bar
                {
                    Position = (g * (series.Length + 1)) + s,
                    Value = double.IsNaN(v) ? 0 : v,
                    FillColor = palette.GetColor(s),
                    Label = double.IsNaN(v) ? "" : v.ToString(v >= 100 ? "N0" : "F2", System.Globalization.CultureInfo.InvariantCulture),
                });
            }
        }

        var plottable = plot.Add.Bars(bars);
        plottable.ValueLabelStyle.FontSize = 12;
        plot.Axes.Bottom.SetTicks(
            groups.Select((_, g) => (g * (series.Length + 1)) + ((series.Length - 1) / 2.0)).ToArray(),
            groups);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.ShowLegend(series.Select((name, s) => new LegendItem { LabelText = name, FillColor = palette.GetColor(s) }), Alignment.UpperRight);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.SavePng(path, 900, 520);
    }
}
