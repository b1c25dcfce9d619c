using System.Threading.RateLimiting;

namespace ProductionServing.Directives;

/// <summary>
/// One key's bucket: the framework's <see cref="TokenBucketRateLimiter"/> without its own timer, brought up to
/// date on every request (and by the location's sweep, which also releases delayed requests).
/// </summary>
/// <remarks>
/// Two things the framework's bucket does not do on its own, found by reading its source (.NET 10):
/// <list type="number">
/// <item>Without <c>AutoReplenishment</c> it adds tokens only when <see cref="TokenBucketRateLimiter.TryReplenish"/>
/// is called: refilled only by a 100 ms timer (what <c>PartitionedRateLimiter</c> does), a bucket of one token would
/// admit at most 10 requests a second whatever its rate. Replenishing before each acquisition makes the rate exact
/// (the fill is continuous, in fractions of a token: dotnet/runtime#74360), as nginx computes its excess from the
/// time of each request.</item>
/// <item>While full it does not move its clock, so the first refill after it was drained credits the whole time it
/// stood full: after an idle spell a bucket of one request admits two in a row (nginx admits one). When a request
/// drains a full bucket, the refill right after it moves the clock to now and the credit it gave is taken back.
/// Tokens are thousandths of a request (<see cref="RequestRateLimit.PermitsPerRequest"/>), so what cannot be taken
/// back is under a thousandth of a request.</item>
/// </list>
/// </remarks>
internal sealed class RateLimitBucket(RequestRateLimit owner, TokenBucketRateLimiterOptions options) : IDisposable
{
    /// <summary>A lease for a request that waited and whose bucket was retired meanwhile (a reload changed the limit): it goes on.</summary>
    private static readonly RateLimitLease Retired = new Admission(acquired: true, retryAfter: null);

    private readonly TokenBucketRateLimiter _bucket = new(options);

    // Delay: while requests wait, a timer replenishes the bucket once per request's worth of time. A bucket of
    // one request releases at most one waiting request per refill (the framework caps the tokens at the bucket's
    // size before it serves its queue), so the location's 100 ms sweep alone would release ten a second whatever
    // the rate; nginx lets each go after excess / rate.
    private readonly Lock _gate = new();
    private ITimer? _release;
    private int _waiting;
    private bool _disposed;

    /// <summary>How long the bucket has stood full (nothing to count, nobody waiting); null while it is not full.</summary>
    public TimeSpan? IdleDuration => _bucket.IdleDuration;

    /// <summary>A request that is served at once or refused.</summary>
    public RateLimitLease Acquire(int permits)
    {
        var idle = Refill();
        return Settle(_bucket.AttemptAcquire(permits), idle, permits);
    }

    /// <summary>A request that may wait for its turn; completed unless it waits.</summary>
    public ValueTask<RateLimitLease> AcquireAsync(int permits, CancellationToken cancellationToken)
    {
        var idle = Refill();
        var pending = _bucket.AcquireAsync(permits, cancellationToken);
        return pending.IsCompleted ? new ValueTask<RateLimitLease>(Settle(pending.Result, idle, permits)) : WaitAsync(pending);
    }

    /// <summary>A request starts waiting: the release timer runs while any does.</summary>
    private void Waiting()
    {
        lock (_gate)
        {
            if (_waiting++ == 0 && !_disposed)
            {
                var period = owner.ReleasePeriod;
                _release ??= TimeProvider.System.CreateTimer(static s => ((RateLimitBucket)s!)._bucket.TryReplenish(), this,
                    Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _release.Change(period, period);
            }
        }
    }

    /// <summary>A request stopped waiting (its turn came, or its client left): the timer stops with the last.</summary>
    private void Waited()
    {
        lock (_gate)
        {
            if (--_waiting == 0 && !_disposed)
            {
                _release!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>Adds what the time since the last refill earned, and lets the delayed requests it pays for go on.</summary>
    public void Replenish() => _bucket.TryReplenish();

    /// <summary>Retires the bucket: requests still waiting in it go on.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _release?.Dispose();
        }

        _bucket.Dispose();
    }

    /// <summary>For tests: the permits in the bucket and those of the requests waiting in it.</summary>
    public RateLimiterStatistics? GetStatistics() => _bucket.GetStatistics();

    /// <summary>
    /// Brings the bucket up to now. A full bucket (the framework tells it by its idle time, without allocating
    /// statistics) has nothing to add, and its clock stands where it filled: the time since then is returned.
    /// </summary>
    private TimeSpan? Refill()
    {
        if (_bucket.IdleDuration is { } idle)
        {
            return idle;
        }

        _bucket.TryReplenish();
        return null;
    }

    private RateLimitLease Settle(RateLimitLease lease, TimeSpan? idle, int permits)
    {
        if (!lease.IsAcquired)
        {
            var available = _bucket.GetStatistics()?.CurrentAvailablePermits ?? 0;
            return new Admission(acquired: false, owner.RetryAfter(available, permits));
        }

        // The refill right after draining a full bucket adds what the time it stood full earned, up to the
        // request just taken: none of it is due, so it is taken back.
        if (idle is { } stood)
        {
            _bucket.TryReplenish();
            var credit = (int)Math.Min(permits, stood.TotalSeconds * owner.PermitsPerSecond);
            if (credit > 0)
            {
                _bucket.AttemptAcquire(credit).Dispose();
            }
        }

        return lease;
    }

    /// <summary>
    /// A delayed request's wait, with the release timer running. With oldest-first order and the queue's limit checked up front, the framework
    /// fails a queued request only when its bucket is disposed; a client that goes away cancels the wait instead,
    /// which frees its place in the queue.
    /// </summary>
    private async ValueTask<RateLimitLease> WaitAsync(ValueTask<RateLimitLease> pending)
    {
        Waiting();
        try
        {
            var lease = await pending.ConfigureAwait(false);
            return lease.IsAcquired ? lease : Retired;
        }
        finally
        {
            Waited();
        }
    }

    /// <summary>The outcome of an acquisition the bucket answers itself: a refusal with the time until a request would be admitted.</summary>
    private sealed class Admission(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        private static readonly string[] Names = [MetadataName.RetryAfter.Name];

        public override bool IsAcquired { get; } = acquired;

        public override IEnumerable<string> MetadataNames => Names;

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
