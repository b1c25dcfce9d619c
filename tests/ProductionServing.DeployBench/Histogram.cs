using ProductionServing.Load;

namespace ProductionServing.DeployBench;

/// <summary>
/// Durations in microseconds, bucketed as the LoadServer's (<see cref="LogLinearBuckets"/>, linked from there),
/// with any percentile. Not thread-safe: each connection records into its own and the run merges them.
/// </summary>
internal sealed class Histogram
{
    private readonly long[] _counts = new long[LogLinearBuckets.Count];

    public long Count { get; private set; }

    public void Record(long microseconds)
    {
        _counts[LogLinearBuckets.Index(microseconds)]++;
        Count++;
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
    }

    /// <summary>The highest value of the bucket holding rank ⌈Count × percent / 100⌉ (0 when empty).</summary>
    public long Percentile(double percent) => LogLinearBuckets.Percentile(_counts, Count, percent);
}
