using System.Numerics;

namespace ProductionServing.DeployBench;

/// <summary>
/// Durations in microseconds, log-linear like HdrHistogram (the LoadServer's LatencyHistogram with
/// any percentile): one bucket per microsecond below 128 µs, then 64 per power of two, so a value is
/// off by under 1/64 (1.6 %), up to 2^25 µs (33.5 s; longer lands in the last bucket).
/// </summary>
internal sealed class Histogram
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int MaxBits = 25;
    private const long MaxMicroseconds = (1L << MaxBits) - 1;

    private readonly long[] _counts = new long[(MaxBits - SubBucketBits + 1) * SubBuckets];

    public long Count { get; private set; }

    /// <summary>Not thread-safe: each connection records into its own and the run merges them.</summary>
    public void Record(long microseconds)
    {
        _counts[Index(Math.Clamp(microseconds, 0, MaxMicroseconds))]++;
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

    /// <summary>The highest value of the bucket holding rank ⌈Count × percent / 100⌉, as HdrHistogram reports (0 when empty).</summary>
    public long Percentile(double percent)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(Count * percent / 100));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return HighestValue(i);
            }
        }

        return MaxMicroseconds;
    }

    private static int Index(long value)
    {
        var group = Math.Max(0, 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits);
        return (group * SubBuckets) + (int)(value >> group);
    }

    private static long HighestValue(int index)
    {
        if (index < 2 * SubBuckets)
        {
            return index;
        }

        var group = (index / SubBuckets) - 1;
        var subBucket = index - (group * SubBuckets);
        return ((long)(subBucket + 1) << group) - 1;
    }
}
