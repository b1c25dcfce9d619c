using System.Collections.Concurrent;

namespace ProductionServing.Status;

/// <summary>
/// One upstream server's counts since the status page started (attempts, failures by reason, attempt
/// durations: the upstream instruments), and its response-time and in-flight history.
/// </summary>
internal sealed class ServerFigures
{
    private readonly ConcurrentDictionary<string, Counter> _failures = new(StringComparer.Ordinal);
    private long _attempts;
    private long _failed;
    private long _timed;
    private long _microseconds;
    private long _sampledTimed;
    private long _sampledMicroseconds;

    /// <summary>The mean attempt duration of each second in milliseconds (NaN for a second without one).</summary>
    public SampleRing ResponseTime { get; } = new(StatusFigures.ServerHistory);

    public SampleRing InFlight { get; } = new(StatusFigures.ServerHistory);

    public long Attempts => Volatile.Read(ref _attempts);

    public long Failures => Volatile.Read(ref _failed);

    /// <summary>The mean attempt duration since start in milliseconds, or NaN.</summary>
    public double MeanMs => Volatile.Read(ref _timed) is var n && n == 0 ? double.NaN : Volatile.Read(ref _microseconds) / 1000.0 / n;

    public IEnumerable<KeyValuePair<string, long>> FailuresByReason()
    {
        foreach (var (reason, counter) in _failures)
        {
            yield return new(reason, counter.Value);
        }
    }

    public void Attempted(string? errorType, long count)
    {
        Interlocked.Add(ref _attempts, count);
        if (errorType is null)
        {
            return;
        }

        Interlocked.Add(ref _failed, count);
        if (_failures.Count < StatusFigures.MaxReasons || _failures.ContainsKey(errorType))
        {
            _failures.GetOrAdd(errorType, static _ => new Counter()).Add(count);
        }
    }

    public void Timed(double seconds)
    {
        Interlocked.Add(ref _microseconds, (long)(seconds * 1_000_000));
        Interlocked.Increment(ref _timed);
    }

    /// <summary>The sampler's tick, with the server's requests in flight now.</summary>
    public void Sample(int inFlight)
    {
        InFlight.Add(inFlight);
        var timed = Volatile.Read(ref _timed);
        var microseconds = Volatile.Read(ref _microseconds);
        ResponseTime.Add(timed == _sampledTimed ? double.NaN : (microseconds - _sampledMicroseconds) / 1000.0 / (timed - _sampledTimed));
        _sampledTimed = timed;
        _sampledMicroseconds = microseconds;
    }
}

/// <summary>An upstream group's rejections by reason (no server could take the request).</summary>
internal sealed class GroupFigures
{
    private readonly ConcurrentDictionary<string, Counter> _rejections = new(StringComparer.Ordinal);
    private long _rejected;

    public long Rejected => Volatile.Read(ref _rejected);

    public IEnumerable<KeyValuePair<string, long>> RejectionsByReason()
    {
        foreach (var (reason, counter) in _rejections)
        {
            yield return new(reason, counter.Value);
        }
    }

    public void Reject(string? reason, long count)
    {
        Interlocked.Add(ref _rejected, count);
        if (reason is not null && (_rejections.Count < StatusFigures.MaxReasons || _rejections.ContainsKey(reason)))
        {
            _rejections.GetOrAdd(reason, static _ => new Counter()).Add(count);
        }
    }
}
