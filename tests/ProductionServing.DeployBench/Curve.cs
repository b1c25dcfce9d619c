namespace ProductionServing.DeployBench;

/// <summary>Completed requests in each second after a deployment was started.</summary>
internal sealed record Curve(int Round, string Variant, string Workload, long[] PerSecond)
{
    /// <summary>The steady-state figure: the median req/s over the last third of the curve.</summary>
    public double Steady => Stats.Median(PerSecond.Skip(PerSecond.Length * 2 / 3).Select(v => (double)v));

    /// <summary>
    /// Time to 90 % of steady state: the number (counted from 1) of the first whole second after start
    /// from which every second of the curve completes at least 90 % of <see cref="Steady"/>; null when
    /// even the last second does not.
    /// </summary>
    public int? SecondsTo90 => FirstStaying(PerSecond.Select(v => (double)v).ToArray());

    /// <summary>
    /// <see cref="SecondsTo90"/> over the median of each second and its two neighbours: a single slow
    /// second (a neighbour's burst on a shared machine) no longer pushes it to the end of the curve;
    /// a shortfall of two seconds or more still does.
    /// </summary>
    public int? SecondsTo90Smoothed => FirstStaying(Enumerable.Range(0, PerSecond.Length)
        .Select(s => Stats.Median(PerSecond.Skip(Math.Max(0, s - 1)).Take(s == 0 ? 2 : 3).Select(v => (double)v))).ToArray());

    private int? FirstStaying(double[] perSecond)
    {
        var threshold = 0.9 * Steady;
        var first = perSecond.Length;
        while (first > 0 && perSecond[first - 1] >= threshold)
        {
            first--;
        }

        return first == perSecond.Length ? null : first + 1;
    }

    /// <summary>Mean req/s over the first 10 s after start (or the whole curve, when shorter): the cold figure.</summary>
    public double Cold => PerSecond.Take(10).Average();
}
