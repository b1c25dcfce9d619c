namespace ProductionServing.Pools;

/// <summary>
/// <c>AdaptiveLifo</c>'s test for a standing queue, after CoDel (RFC 8289): the queue starts standing
/// when, over a whole <see cref="Interval"/>, it never went below <c>TargetQueueDelay</c> of continuous
/// occupancy, and stops once a whole interval passes in which it never reached the target. A burst that
/// drains is never standing; sustained overload is, until it ends.
/// </summary>
/// <remarks>
/// CoDel measures each served packet's sojourn time; with newest-first service that time is small by
/// construction and the state would flap every interval, so this measures how long the queue has gone
/// without emptying (Facebook's adaptive LIFO, "Fail at Scale", 2015). Shedding itself empties the queue
/// now and then under overload; leaving the state takes a whole calm interval (hysteresis), so those
/// moments do not switch it back to oldest-first. Not thread-safe: the pool calls it under its lock.
/// </remarks>
internal sealed class StandingQueue
{
    /// <summary>CoDel's interval.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private long _occupiedSince;
    private long _minOccupancy = long.MaxValue;
    private long _maxOccupancy;
    private long _intervalEnd;

    /// <summary>Whether the queue stood over the last full interval: serve newest first and shed the old.</summary>
    public bool Standing { get; private set; }

    /// <summary>Records the queue's state at an arrival or a release; returns <see cref="Standing"/>.</summary>
    public bool Observe(long now, int queueLength, long target, long interval)
    {
        var occupancy = queueLength == 0 ? 0 : now - _occupiedSince;
        _minOccupancy = Math.Min(_minOccupancy, occupancy);
        _maxOccupancy = Math.Max(_maxOccupancy, occupancy);
        if (_intervalEnd == 0)
        {
            _intervalEnd = now + interval; // the first interval starts now: no verdict from a single sample
        }
        else if (now >= _intervalEnd)
        {
            Standing = Standing ? _maxOccupancy > target : _minOccupancy > target;
            _minOccupancy = occupancy;
            _maxOccupancy = occupancy;
            _intervalEnd = now + interval;
        }

        return Standing;
    }

    /// <summary>Records that the queue went from empty to occupied.</summary>
    public void Occupied(long now) => _occupiedSince = now;
}
