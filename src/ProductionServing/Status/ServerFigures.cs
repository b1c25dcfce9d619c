namespace ProductionServing.Status;

/// <summary>
/// One upstream server's counts since the status page started (attempts, failures by reason, attempt
/// durations: the upstream instruments), and its response-time and in-flight history.
/// </summary>
internal sealed class ServerFigures
{
    private readonly ReasonCounts _failures = new();
    private long _attempts;
    private long _timed;
    private long _microseconds;
    private long _sampledTimed;
    private long _sampledMicroseconds;

    /// <summary>The mean attempt duration of each second in milliseconds (NaN for a second without one).</summary>
    public SampleRing ResponseTime { get; } = new(StatusFigures.ServerHistory);

    public SampleRing InFlight { get; } = new(StatusFigures.ServerHistory);

    public long Attempts => Volatile.Read(ref _attempts);

    public long Failures => _failures.Total;

    /// <summary>The mean attempt duration since start in milliseconds, or NaN.</summary>
    public double MeanMs => Volatile.Read(ref _timed) is var n && n == 0 ? double.NaN : Volatile.Read(ref _microseconds) / 1000.0 / n;

    public IEnumerable<KeyValuePair<string, long>> FailuresByReason() => _failures.ByReason();

    public void Attempted(string? errorType, long count)
    {
        Interlocked.Add(ref _attempts, count);
        if (errorType is null)
        {
            return;
        }

        _failures.Add(errorType, count);
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
