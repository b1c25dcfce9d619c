namespace ProductionServing.Soak;

/// <summary>
/// When a sampled series counts as flat. Over the samples after the warm-up, a least-squares line is
/// fitted to the series against time; its <em>growth</em> is the line's rise across that window (slope
/// times the window's length). The series is flat when the growth is at most <see cref="Relative"/> of
/// the series' median over the window, or <see cref="Absolute"/>, whichever is larger. Only growth
/// fails: a series that falls is flat. A fit over every sample, rather than two points, is not moved
/// much by one GC's sawtooth or one burst of connections, and a leak of any steady rate shows as a
/// slope however noisy the samples are.
/// </summary>
internal sealed record FlatnessRule(string Name, string Unit, double UnitScale, double Relative, double Absolute, Func<Sample, double> Value)
{
    private const double MiB = 1024 * 1024;

    /// <summary>
    /// The four series and their bounds. Memory: 10 % of RSS (20 % of the GC heap, whose sawtooth is
    /// deeper) or 16 MiB; the mix is paced to about 3,000 requests a second at most, so the eight minutes
    /// after a default run's warm-up hold up to about 1.4 million, and a leak of a dozen bytes each
    /// passes 16 MiB. Counts: 8 descriptors (the load's own connections come and go by a few) and 4
    /// threads (the thread pool adds and retires a few as it tunes itself).
    /// </summary>
    public static readonly FlatnessRule[] All =
    [
        new("RSS", "MiB", MiB, 0.10, 16 * MiB, s => s.RssBytes),
        new("GC heap", "MiB", MiB, 0.20, 16 * MiB, s => s.GcHeapBytes),
        new("open fds", "", 1, 0, 8, s => s.Fds),
        new("threads", "", 1, 0, 4, s => s.Threads),
    ];

    public FlatnessResult Check(IReadOnlyList<Sample> window)
    {
        var xs = window.Select(s => s.Seconds).ToArray();
        var ys = window.Select(Value).ToArray();
        var (slope, intercept) = Fit(xs, ys);
        var growth = slope * (xs[^1] - xs[0]);
        var median = Median(ys);
        var bound = Math.Max(Relative * median, Absolute);
        var edge = Math.Min(3, ys.Length);
        return new FlatnessResult(this, Median(ys[..edge]), Median(ys[^edge..]), median, slope, intercept, growth, bound, growth <= bound);
    }

    public string Format(double value) => Unit.Length == 0
        ? value.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)
        : (value / UnitScale).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " " + Unit;

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static (double Slope, double Intercept) Fit(double[] xs, double[] ys)
    {
        var mx = xs.Average();
        var my = ys.Average();
        double sxy = 0, sxx = 0;
        for (var i = 0; i < xs.Length; i++)
        {
            sxy += (xs[i] - mx) * (ys[i] - my);
            sxx += (xs[i] - mx) * (xs[i] - mx);
        }

        var slope = sxx == 0 ? 0 : sxy / sxx;
        return (slope, my - (slope * mx));
    }
}
