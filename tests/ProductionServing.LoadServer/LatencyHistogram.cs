using ProductionServing.Load;

namespace ProductionServing.LoadServer;

/// <summary>
/// A fixed, lock-free histogram of durations in microseconds (<see cref="LogLinearBuckets"/>). Recording is one
/// <see cref="Interlocked.Increment(ref long)"/>.
/// </summary>
internal sealed class LatencyHistogram
{
    private readonly long[] _counts = new long[LogLinearBuckets.Count];

    public void Record(long microseconds) => Interlocked.Increment(ref _counts[LogLinearBuckets.Index(microseconds)]);

    /// <summary>Zeroes every counter. Not atomic: call it while nothing is recorded (the harness does, between runs).</summary>
    public void Reset() => Array.Clear(_counts);

    /// <summary>Reads the counters once and returns their total and the given percentiles, in microseconds (0 when empty).</summary>
    public (long Count, long P50, long P99) Summarize()
    {
        var counts = new long[_counts.Length];
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Volatile.Read(ref _counts[i]);
            total += counts[i];
        }

        return (total, LogLinearBuckets.Percentile(counts, total, 50), LogLinearBuckets.Percentile(counts, total, 99));
    }
}
