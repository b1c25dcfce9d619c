using System.Threading.RateLimiting;

namespace ProductionServing.Directives;

/// <summary>
/// One key's bucket: the framework's <see cref="TokenBucketRateLimiter"/>, brought up to date on every request
/// instead of only on the partitioned limiter's 100 ms timer, and counted so that the location knows how
/// many keys it tracks. The partitioned limiter creates one per key on the key's first request, keeps
/// calling <see cref="TryReplenish"/> (which releases delayed requests) and disposes it once it has stood
/// full for its idle limit.
/// </summary>
/// <remarks>
/// Two things the framework's bucket does not do on its own, both found by reading its source (.NET 10):
/// <list type="number">
/// <item>Without <c>AutoReplenishment</c> it adds tokens only when <see cref="TryReplenish"/> is called, which
/// the partitioned limiter does every 100 ms: a bucket of one token would then admit at most 10 requests a
/// second whatever its rate. Replenishing before each acquisition makes the rate exact (the fill is
/// continuous, in fractions of a token: dotnet/runtime#74360), as nginx computes its excess from the time of
/// each request.</item>
/// <item>While full it does not move its clock, so the first refill after it was drained credits the whole
/// time it stood full: after an idle spell a bucket of one request admits two in a row (nginx admits one).
/// When a request drains a full bucket, the refill right after it moves the clock to now and the credit it
/// gave is taken back. Tokens are thousandths of a request (<see cref="RequestRateLimit.PermitsPerRequest"/>),
/// so what cannot be taken back is under a thousandth of a request.</item>
/// </list>
/// </remarks>
internal sealed class RateLimitBucket : ReplenishingRateLimiter
{
    /// <summary>A lease for a request that waited and whose bucket was retired meanwhile (a reload changed the limit): it goes on.</summary>
    private static readonly RateLimitLease Retired = new Admission(acquired: true, retryAfter: null);

    private readonly TokenBucketRateLimiter _bucket;
    private readonly RequestRateLimit _owner;
    private int _disposed;

    public RateLimitBucket(RequestRateLimit owner, TokenBucketRateLimiterOptions options)
    {
        _owner = owner;
        _bucket = new TokenBucketRateLimiter(options);
        owner.BucketCreated();
    }

    public override TimeSpan? IdleDuration => _bucket.IdleDuration;

    public override bool IsAutoReplenishing => false;

    public override TimeSpan ReplenishmentPeriod => _bucket.ReplenishmentPeriod;

    public override bool TryReplenish() => _bucket.TryReplenish();

    public override RateLimiterStatistics? GetStatistics() => _bucket.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        var idle = Refill();
        return Settle(_bucket.AttemptAcquire(permitCount), idle, permitCount);
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var idle = Refill();
        var pending = _bucket.AcquireAsync(permitCount, cancellationToken);
        return pending.IsCompleted ? new ValueTask<RateLimitLease>(Settle(pending.Result, idle, permitCount)) : WaitAsync(pending);
    }

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

    private RateLimitLease Settle(RateLimitLease lease, TimeSpan? idle, int permitCount)
    {
        if (!lease.IsAcquired)
        {
            var available = _bucket.GetStatistics()?.CurrentAvailablePermits ?? 0;
            return new Admission(acquired: false, _owner.RetryAfter(available, permitCount));
        }

        // The refill right after draining a full bucket adds what the time it stood full earned, up to the
        // request just taken: nothing of it is due, so it is taken back.
        if (idle is { } stood)
        {
            _bucket.TryReplenish();
            var credit = (int)Math.Min(permitCount, stood.TotalSeconds * _owner.PermitsPerSecond);
            if (credit > 0)
            {
                _bucket.AttemptAcquire(credit).Dispose();
            }
        }

        return lease;
    }

    /// <summary>
    /// A delayed request's wait. With oldest-first order and the queue's limit checked up front, the framework
    /// fails a queued request only when its bucket is disposed; a client that goes away cancels the wait instead,
    /// which frees its place in the queue.
    /// </summary>
    private static async ValueTask<RateLimitLease> WaitAsync(ValueTask<RateLimitLease> pending)
    {
        var lease = await pending.ConfigureAwait(false);
        return lease.IsAcquired ? lease : Retired;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _bucket.Dispose();
            _owner.BucketDisposed();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        Dispose(true);
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    /// <summary>The outcome of an acquisition this bucket answers itself: a refusal with the time until a request would be admitted.</summary>
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
