namespace ProductionServing.DeployBench;

/// <summary>One measured run: a workload against one deployment in one round, and the server core's CPU time it took.</summary>
/// <param name="LoadCpuSeconds">The load generator's own CPU time in the run: near the run's length, the generator (not the server) was the limit.</param>
internal sealed record Measurement(int Round, string Workload, string Deployment, bool OpenLoop, double Rate, LoadResult Result, double CpuSeconds, double LoadCpuSeconds)
{
    /// <summary>Server-side CPU time per completed request, in microseconds (every process of the deployment).</summary>
    public double CpuMicrosecondsPerRequest => Result.Requests == 0 ? 0 : CpuSeconds * 1e6 / Result.Requests;

    /// <summary>The share of the server core the deployment used during the run (1 = the whole core).</summary>
    public double ServerCoreUse => CpuSeconds / Result.Seconds;

    /// <summary>The share of the load core the generator used during the run.</summary>
    public double LoadCoreUse => LoadCpuSeconds / Result.Seconds;
}

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

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
