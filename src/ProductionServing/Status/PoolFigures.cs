namespace ProductionServing.Status;

/// <summary>
/// One pool's counts since the status page started (rejections by reason, request timeouts, replaced
/// workers, queue waits: the pool instruments) and its busy and queued history, sampled from the pool.
/// </summary>
internal sealed class PoolFigures
{
    private readonly ReasonCounts _rejections = new();
    private long _timeouts;
    private long _replaced;
    private long _waits;
    private long _waitMicroseconds;
    private long _sampledRejected;

    public SampleRing Busy { get; } = new(StatusFigures.PoolHistory);

    public SampleRing Queued { get; } = new(StatusFigures.PoolHistory);

    /// <summary>Rejections each second.</summary>
    public SampleRing RejectedRate { get; } = new(StatusFigures.PoolHistory);

    public long Rejected => _rejections.Total;

    public long RequestTimeouts => Volatile.Read(ref _timeouts);

    public long WorkersReplaced => Volatile.Read(ref _replaced);

    /// <summary>The mean queue wait in milliseconds, or NaN before the first.</summary>
    public double MeanWaitMs => Volatile.Read(ref _waits) is var n && n == 0 ? double.NaN : Volatile.Read(ref _waitMicroseconds) / 1000.0 / n;

    /// <summary>Rejections by <c>error.type</c>.</summary>
    public IEnumerable<KeyValuePair<string, long>> RejectionsByReason() => _rejections.ByReason();

    public void Reject(string? reason, long count) => _rejections.Add(reason, count);

    public void TimedOut(long count) => Interlocked.Add(ref _timeouts, count);

    public void Replaced(long count) => Interlocked.Add(ref _replaced, count);

    public void Waited(double seconds)
    {
        Interlocked.Increment(ref _waits);
        Interlocked.Add(ref _waitMicroseconds, (long)(seconds * 1_000_000));
    }

    /// <summary>The sampler's tick, with the pool's state now.</summary>
    public void Sample(int busy, int queued)
    {
        Busy.Add(busy);
        Queued.Add(queued);
        var rejected = Rejected;
        RejectedRate.Add(rejected - _sampledRejected);
        _sampledRejected = rejected;
    }
}
