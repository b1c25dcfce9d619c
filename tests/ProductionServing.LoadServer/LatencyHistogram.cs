using System.Numerics;

namespace ProductionServing.LoadServer;

/// <summary>
/// A fixed, lock-free histogram of durations in microseconds, log-linear like HdrHistogram: below
/// 128 µs one bucket per microsecond, above it 64 buckets per power of two, so a recorded value is
/// off by less than 1/64 (1.6 %). 1,216 counters cover up to 2^24 µs (16.8 s); longer durations
/// land in the last bucket. Recording is one <see cref="Interlocked.Increment(ref long)"/>.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int MaxBits = 24;
    private const long MaxMicroseconds = (1L << MaxBits) - 1;

    // Bucket group b >= 1 holds values with their top bit at b + SubBucketBits, at indexes b * 64 + (v >> b);
    // group 0 holds 0..127 at their own index. See Index.
    private readonly long[] _counts = new long[(MaxBits - SubBucketBits + 1) * SubBuckets];

    public void Record(long microseconds)
    {
        Interlocked.Increment(ref _counts[Index(Math.Clamp(microseconds, 0, MaxMicroseconds))]);
    }

    /// <summary>Zeroes every counter. Not atomic: call it while nothing is recorded (the harness does, between runs).</summary>
    public void Reset() => Array.Clear(_counts);

    /// <summary>Reads the counters once and returns their total and the given percentiles, in microseconds (0 when empty).</summary>
    public (long Count, long P50, long P99) Summarize()
    {
        var counts = new long[_counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Volatile.Read(ref _counts[i]);
        }

        long total = 0;
        foreach (var count in counts)
        {
            total += count;
        }

        return (total, Percentile(counts, total, 50), Percentile(counts, total, 99));
    }

    private static int Index(long value)
    {
        var group = Math.Max(0, 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits);
        return (group * SubBuckets) + (int)(value >> group);
    }

    /// <summary>The highest value of the bucket holding the value at rank ⌈total × percent / 100⌉ (as HdrHistogram reports).</summary>
    private static long Percentile(long[] counts, long total, int percent)
    {
        if (total == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, ((total * percent) + 99) / 100);
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
