using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Directives;

/// <summary>
/// A location's <c>RateLimit</c> (nginx <c>limit_req</c>): a framework <see cref="TokenBucketRateLimiter"/> per key.
/// A key's bucket is dropped once it has stood full (idle) for <see cref="IdleLimit"/>, so memory follows the keys
/// seen lately, not every key ever seen. Kept across reloads by <see cref="RateLimitRegistry"/>.
/// </summary>
/// <remarks>
/// <para>How nginx's leaky bucket maps onto a token bucket. nginx keeps, per key, an <c>excess</c> that drains at
/// the rate; a request adds one, and is refused when the excess would pass <c>burst</c>
/// (<c>excess = max(0, excess - rate × elapsed + 1)</c> in ngx_http_limit_req_module.c, in thousandths of a
/// request). A bucket of <c>burst + 1</c> tokens refilled at the rate, one token a request, is the same
/// automaton: its tokens are <c>burst - excess</c>, a fresh key starts full, and a refused request takes nothing
/// (nginx-tests limit_req.t "rejects not counted").</para>
/// <list type="bullet">
/// <item><c>Delay: false</c> (nginx's <c>nodelay</c>): capacity <c>Burst + 1</c>, no queue. The burst is served at
/// once but still occupies the bucket, and drains at the rate.</item>
/// <item><c>Delay: true</c>: capacity 1 and a first-in-first-out queue of <c>Burst</c> requests. nginx delays a
/// request by <c>excess / rate</c>: the time its turn comes if requests leave one per <c>1 / rate</c>, which is
/// what a one-token bucket with a queue does. A request that finds the queue full is refused.</item>
/// </list>
/// <para>Permits are thousandths of a request, nginx's own unit, so the bucket can settle fractions
/// (<see cref="RateLimitBucket"/>). A refusal's <c>Retry-After</c> is the time until the bucket holds a whole
/// request again; with <c>Delay</c>, that is when the queue's head leaves and makes room.</para>
/// <para>Why not <c>PartitionedRateLimiter.Create</c>, which does this keying and idle cleanup: its lookup allocates
/// on every call (the lambda that creates a partition's limiter captures a local, so the compiler allocates its
/// closure on entry, found or not), under one lock for all keys, and its 100 ms timer copies every partition
/// into a list again on each tick once one was ever added. The keys here are a <see cref="ConcurrentDictionary{TKey, TValue}"/>
/// read without a lock, and the sweep follows the same rules: replenish every 100 ms, drop after 10 s full.</para>
/// </remarks>
internal sealed class RequestRateLimit : IDisposable
{
    /// <summary>Permits per request: the bucket counts thousandths of a request, as nginx's excess does.</summary>
    public const int PermitsPerRequest = 1000;

    /// <summary>How long a key's bucket stands full before it is dropped: the framework's partitioned limiter's limit.</summary>
    public static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most keys a location tracks at once (a bucket is a few hundred bytes), as nginx's zone size bounds its
    /// keys. A key beyond it shares one overflow bucket with every other such key until the sweep drops idle ones:
    /// a client that fills the table with made-up keys (an IPv6 /64 has plenty) and keeps them busy is then
    /// limited as a whole instead of unlimited, as nginx answers when its full zone has nothing to evict.
    /// </summary>
    public const int DefaultMaxKeys = 100_000;

    /// <summary>How often the buckets are swept: replenished (which lets delayed requests go on) and dropped when idle.</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromMilliseconds(100);

    /// <summary>The lease of a request that is not limited: its key is empty, or its bucket was retired as it came in.</summary>
    private static readonly RateLimitLease NotLimited = new NotLimitedLease();

    private readonly VariableTemplate? _key;
    private readonly TokenBucketRateLimiterOptions _options;
    private readonly ConcurrentDictionary<RateLimitKey, RateLimitBucket> _buckets = new();
    private readonly RateLimitBucket _overflow;
    private readonly ITimer _sweep;
    private readonly int _maxKeys;
    private int _sweeping;
    private int _keys;

    public RequestRateLimit(RateLimitSettings settings, VariableTemplate key, int maxKeys = DefaultMaxKeys)
    {
        Settings = settings;
        _maxKeys = maxKeys;
        HighestCapture = key.HighestCapture;
        _key = key.IsRemoteAddress ? null : key;
        PermitsPerSecond = settings.PerSecond * PermitsPerRequest;
        // Rounded up: a tick shorter than one request's worth of the rate would release nobody and the bucket,
        // capped at one request while requests wait, would lose what it earned.
        ReleasePeriod = TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(1000 / settings.PerSecond)));

        // Rates are whole requests per second or minute, so per millisecond (or per 60 ms) they are whole permits.
        _options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = (settings.Delay ? 1 : settings.Burst + 1) * PermitsPerRequest,
            QueueLimit = settings.Delay ? settings.Burst * PermitsPerRequest : 0,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            TokensPerPeriod = settings.Requests,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(settings.PerMinute ? 60 : 1),

            // One timer per location sweeps every bucket, and RateLimitBucket replenishes before each request.
            AutoReplenishment = false,
        };
        _overflow = new RateLimitBucket(this, _options);

        // On the real clock, not the host's TimeProvider: the framework's buckets keep time by Stopwatch and take
        // no TimeProvider, and a sweep on a test's fake clock would hold delayed requests while the buckets refill.
        _sweep = TimeProvider.System.CreateTimer(static s => ((RequestRateLimit)s!).Sweep(), this, SweepPeriod, SweepPeriod);
    }

    public RateLimitSettings Settings { get; }

    /// <summary>The rate in permits (thousandths of a request) per second.</summary>
    public double PermitsPerSecond { get; }

    /// <summary>How often a bucket with waiting requests is replenished: one request's worth of the rate, at least 1 ms.</summary>
    public TimeSpan ReleasePeriod { get; }

    /// <summary>The highest capture (<c>$N</c>) the key uses: the location's regex then keeps its match for it.</summary>
    public int HighestCapture { get; }

    /// <summary>How many keys have a bucket now (each holds a few hundred bytes).</summary>
    public int TrackedKeys => Volatile.Read(ref _keys);

    /// <summary>
    /// Counts the request against its key's bucket: admitted at once, admitted after its turn (<c>Delay</c>), or
    /// refused with a lease whose <see cref="MetadataName.RetryAfter"/> says when to come back. A delayed request
    /// whose client goes away ends with <see cref="OperationCanceledException"/> and gives its place back.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="variables">What the key template is expanded against.</param>
    /// <returns>The lease; completed unless the request waits.</returns>
    public ValueTask<RateLimitLease> AcquireAsync(HttpContext context, in VariableScope variables)
    {
        var found = _key is null
            ? RateLimitKey.TryFromAddress(context.Connection.RemoteIpAddress, out var key)
            : RateLimitKey.TryFromText(_key.Expand(variables), out key);
        if (!found)
        {
            return new ValueTask<RateLimitLease>(NotLimited);
        }

        context.Features.Set(CountedFeature.Instance);
        var bucket = Bucket(key);
        try
        {
            return Settings.Delay
                ? bucket.AcquireAsync(PermitsPerRequest, context.RequestAborted)
                : new ValueTask<RateLimitLease>(bucket.Acquire(PermitsPerRequest));
        }
        catch (ObjectDisposedException)
        {
            // The sweep dropped the key's idle bucket just as the request found it, or a reload retired this limit
            // after the request read its configuration; either way the key's next bucket starts full, which would
            // admit the request too.
            return new ValueTask<RateLimitLease>(NotLimited);
        }
    }

    /// <summary>For tests: the state of <paramref name="key"/>'s bucket (creating it when there is none).</summary>
    internal RateLimiterStatistics? Statistics(RateLimitKey key) => Bucket(key).GetStatistics();

    /// <summary>Whether a <c>RateLimit</c> already counted the request (before an internal redirect).</summary>
    public static bool Counted(HttpContext context) => context.Features.Get<CountedFeature>() is not null;

    /// <summary>When a bucket holding <paramref name="available"/> permits has enough for one more request.</summary>
    internal TimeSpan RetryAfter(long available, int permitCount) =>
        TimeSpan.FromSeconds(Math.Max(permitCount - available, 1) / PermitsPerSecond);

    /// <summary>Stops the sweep and drops every bucket; requests still waiting go on.</summary>
    public void Dispose()
    {
        _sweep.Dispose();
        foreach (var (_, bucket) in _buckets)
        {
            bucket.Dispose();
        }

        _buckets.Clear();
        Volatile.Write(ref _keys, 0);
        _overflow.Dispose();
    }

    /// <summary>The key's bucket, made when it has none; the shared overflow bucket when the location tracks <see cref="DefaultMaxKeys"/> already.</summary>
    private RateLimitBucket Bucket(RateLimitKey key)
    {
        if (_buckets.TryGetValue(key, out var bucket))
        {
            return bucket;
        }

        // Counted here rather than by the dictionary's Count, which takes every one of its locks.
        if (Volatile.Read(ref _keys) >= _maxKeys)
        {
            return _overflow;
        }

        var created = new RateLimitBucket(this, _options);
        if (_buckets.TryAdd(key, created))
        {
            Interlocked.Increment(ref _keys);
            return created;
        }

        // Another request for the same key added its bucket first.
        created.Dispose();
        return _buckets.TryGetValue(key, out bucket) ? bucket : _overflow;
    }

    /// <summary>
    /// Every <see cref="SweepPeriod"/>: each bucket is replenished, which lets the delayed requests it now pays for
    /// go on, and dropped once it has stood full for <see cref="IdleLimit"/>. A request that finds a bucket as it
    /// is dropped is admitted (see <see cref="AcquireAsync"/>).
    /// </summary>
    private void Sweep()
    {
        // A sweep of many keys on a busy machine can outlast the period: the next tick then has nothing to add.
        if (Interlocked.Exchange(ref _sweeping, 1) != 0)
        {
            return;
        }

        try
        {
            _overflow.Replenish();
            foreach (var entry in _buckets)
            {
                if (entry.Value.IdleDuration > IdleLimit)
                {
                    if (_buckets.TryRemove(entry))
                    {
                        Interlocked.Decrement(ref _keys);
                        entry.Value.Dispose();
                    }
                }
                else
                {
                    entry.Value.Replenish();
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // Retired by a reload while this sweep ran.
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>Marks a request a <c>RateLimit</c> counted; one instance for all, so marking allocates nothing.</summary>
    private sealed class CountedFeature
    {
        public static readonly CountedFeature Instance = new();
    }

    private sealed class NotLimitedLease : RateLimitLease
    {
        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
