using System.Collections.Concurrent;

namespace ProductionServing.Status;

/// <summary>
/// A count and its split by <c>error.type</c> (a pool's rejections, a server's failures, an upstream group's
/// rejections). The reasons come from a closed vocabulary, but the split keeps at most
/// <see cref="StatusFigures.MaxReasons"/> of them anyway: the total stays exact whatever arrives.
/// </summary>
internal sealed class ReasonCounts
{
    private readonly ConcurrentDictionary<string, Counter> _byReason = new(StringComparer.Ordinal);
    private long _total;

    public long Total => Volatile.Read(ref _total);

    /// <summary>Adds <paramref name="count"/>, under <paramref name="reason"/> too when there is one.</summary>
    public void Add(string? reason, long count)
    {
        Interlocked.Add(ref _total, count);
        if (reason is not null && (_byReason.Count < StatusFigures.MaxReasons || _byReason.ContainsKey(reason)))
        {
            _byReason.GetOrAdd(reason, static _ => new Counter()).Add(count);
        }
    }

    public IEnumerable<KeyValuePair<string, long>> ByReason()
    {
        foreach (var (reason, counter) in _byReason)
        {
            yield return new(reason, counter.Value);
        }
    }

    /// <summary>A count the dictionary holds by reference, so adding to it takes no lock.</summary>
    private sealed class Counter
    {
        private long _value;

        public long Value => Volatile.Read(ref _value);

        public void Add(long count) => Interlocked.Add(ref _value, count);
    }
}
