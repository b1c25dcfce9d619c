using ScottPlot;

namespace ProductionServing.Soak;

/// <summary>
/// The soak's chart (ScottPlot), four panels stacked on one time axis in minutes: RSS, the GC heap,
/// open descriptors and threads, and requests per second by outcome. The end of the warm-up is a
/// dashed line, and each checked series has its fitted line over the window after it.
/// </summary>
internal static class Chart
{
    public static void Write(string path, IReadOnlyList<Sample> samples, double warmupSeconds, IReadOnlyList<FlatnessResult> results, string title)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var multiplot = new Multiplot();
        while (multiplot.Count() < 4)
        {
            multiplot.AddPlot();
        }

        var plots = multiplot.GetPlots();
        var minutes = samples.Select(s => s.Seconds / 60).ToArray();
        var end = Math.Max(minutes.LastOrDefault(), 1);

        Series(plots[0], minutes, samples.Select(s => s.RssBytes / 1048576.0).ToArray(), "RSS", palette.GetColor(0));
        Series(plots[0], minutes, samples.Select(s => s.RssAnonBytes / 1048576.0).ToArray(), "its anonymous part", palette.GetColor(5));
        plots[0].YLabel("RSS (MiB)");
        plots[0].ShowLegend(Alignment.LowerRight);

        Series(plots[1], minutes, samples.Select(s => s.GcHeapBytes / 1048576.0).ToArray(), "GC heap after the last collection", palette.GetColor(1));
        Series(plots[1], minutes, samples.Select(s => s.GcCommittedBytes / 1048576.0).ToArray(), "GC committed", palette.GetColor(7));
        plots[1].YLabel("GC (MiB)");
        plots[1].ShowLegend(Alignment.LowerRight);

        Series(plots[2], minutes, samples.Select(s => (double)s.Fds).ToArray(), "open fds", palette.GetColor(2));
        Series(plots[2], minutes, samples.Select(s => (double)s.Threads).ToArray(), "threads", palette.GetColor(4));
        plots[2].YLabel("count");
        plots[2].ShowLegend(Alignment.LowerRight);

        Series(plots[3], minutes, samples.Select(s => (s.ByOutcome[(int)Outcome.Ok] + s.ByOutcome[(int)Outcome.Shed] + s.ByOutcome[(int)Outcome.Aborted]) / s.Interval).ToArray(), "all but errors", palette.GetColor(0));
        Series(plots[3], minutes, samples.Select(s => s.PerSecond(Outcome.Shed)).ToArray(), "503 (overloaded pool)", palette.GetColor(1));
        Series(plots[3], minutes, samples.Select(s => s.PerSecond(Outcome.Aborted)).ToArray(), "client aborts", palette.GetColor(2));
        Series(plots[3], minutes, samples.Select(s => s.Errors / s.Interval).ToArray(), "errors", palette.GetColor(3));
        plots[3].YLabel("requests per second");
        plots[3].XLabel("minutes since the load started");
        plots[3].ShowLegend(Alignment.LowerRight);

        // The fitted lines, on the panel of their series.
        int[] panel = [0, 1, 2, 2];
        for (var i = 0; i < results.Count && i < panel.Length; i++)
        {
            var r = results[i];
            var x0 = warmupSeconds;
            var x1 = samples[^1].Seconds;
            var line = plots[panel[i]].Add.Line(x0 / 60, (r.Intercept + (r.Slope * x0)) / r.Rule.UnitScale, x1 / 60, (r.Intercept + (r.Slope * x1)) / r.Rule.UnitScale);
            line.LineColor = Colors.Black;
            line.LinePattern = LinePattern.Dotted;
            line.LineWidth = 2;
        }

        foreach (var plot in plots)
        {
            var warm = plot.Add.VerticalLine(warmupSeconds / 60);
            warm.LinePattern = LinePattern.Dashed;
            warm.Color = Colors.Gray;
            // From zero, so the eye reads growth against the whole value, as the flatness rule does.
            plot.Axes.AutoScale();
            plot.Axes.SetLimits(0, end, 0, plot.Axes.GetLimits().Top * 1.05);
        }

        plots[0].Title(title);
        multiplot.SavePng(path, 1100, 1300);
    }

    private static void Series(Plot plot, double[] xs, double[] ys, string label, Color color)
    {
        var scatter = plot.Add.Scatter(xs, ys, color);
        scatter.LegendText = label;
        scatter.MarkerSize = 3;
        scatter.LineWidth = 1.5f;
    }
}
