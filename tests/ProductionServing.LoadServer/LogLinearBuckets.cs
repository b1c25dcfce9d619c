using System.Numerics;

namespace ProductionServing.Load;

/// <summary>
/// The bucketing of the load tools' latency histograms (the LoadServer's and the deployment benchmark's, which
/// links this file), log-linear like HdrHistogram: below 128 µs one bucket per microsecond, above it 64 buckets per
/// power of two, so a recorded value is off by less than 1/64 (1.6 %). 1,280 counters cover up to 2^25 µs (33.5 s);
/// longer durations land in the last bucket.
/// </summary>
internal static class LogLinearBuckets
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int MaxBits = 25;

    /// <summary>The longest duration with a bucket of its own.</summary>
    public const long MaxMicroseconds = (1L << MaxBits) - 1;

    /// <summary>How many counters a histogram needs.</summary>
    public const int Count = (MaxBits - SubBucketBits + 1) * SubBuckets;

    /// <summary>
    /// The counter of a duration: bucket group b ≥ 1 holds values with their top bit at b + 6, at indexes
    /// b × 64 + (v >> b); group 0 holds 0..127 at their own index.
    /// </summary>
    public static int Index(long microseconds)
    {
        var value = Math.Clamp(microseconds, 0, MaxMicroseconds);
        var group = Math.Max(0, 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits);
        return (group * SubBuckets) + (int)(value >> group);
    }

    /// <summary>The highest value of the bucket holding rank ⌈total × percent / 100⌉, as HdrHistogram reports (0 when empty).</summary>
    public static long Percentile(long[] counts, long total, double percent)
    {
        if (total == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(total * percent / 100));
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return HighestValue(i);
            }
        }

        return MaxMicroseconds;
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
