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
    public int? SecondsTo90
    {
        get
        {
            var threshold = 0.9 * Steady;
            var first = PerSecond.Length;
            while (first > 0 && PerSecond[first - 1] >= threshold)
            {
                first--;
            }

            return first == PerSecond.Length ? null : first + 1;
        }
    }

    /// <summary>Mean req/s over the first 10 s after start (or the whole curve, when shorter): the cold figure.</summary>
    public double Cold => PerSecond.Take(10).Average();
}
