using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Directives;

/// <summary>
/// A location's <c>RateLimit</c> (nginx <c>limit_req</c>): a bucket per key on the framework's partitioned token
/// bucket limiter, which drops a key's bucket once it has stood full (idle) for 10 s, so memory follows the
/// keys seen lately, not every key ever seen. Kept across reloads by <see cref="RateLimitRegistry"/>.
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
/// </remarks>
internal sealed class RequestRateLimit : IDisposable
{
    /// <summary>Permits per request: the bucket counts thousandths of a request, as nginx's excess does.</summary>
    public const int PermitsPerRequest = 1000;

    /// <summary>The lease of a request that is not limited: its key is empty, or its limiter was retired by a reload while it came in.</summary>
    private static readonly RateLimitLease NotLimited = new NotLimitedLease();

    private readonly VariableTemplate? _key;
    private readonly PartitionedRateLimiter<RateLimitKey> _limiter;
    private int _trackedKeys;

    public RequestRateLimit(RateLimitSettings settings, VariableTemplate key)
    {
        Settings = settings;
        HighestCapture = key.HighestCapture;
        _key = key.IsRemoteAddress ? null : key;
        PermitsPerSecond = settings.PerSecond * PermitsPerRequest;

        // Rates are whole requests per second or minute, so per millisecond (or per 60 ms) they are whole permits.
        var options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = (settings.Delay ? 1 : settings.Burst + 1) * PermitsPerRequest,
            QueueLimit = settings.Delay ? settings.Burst * PermitsPerRequest : 0,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            TokensPerPeriod = settings.Requests,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(settings.PerMinute ? 60 : 1),

            // The partitioned limiter replenishes every bucket from one timer, and RateLimitBucket before each request.
            AutoReplenishment = false,
        };

        // Both delegates are made once here; per request the framework only calls them.
        Func<RateLimitKey, RateLimiter> create = _ => new RateLimitBucket(this, options);
        _limiter = PartitionedRateLimiter.Create<RateLimitKey, RateLimitKey>(key => RateLimitPartition.Get(key, create));
    }

    public RateLimitSettings Settings { get; }

    /// <summary>The rate in permits (thousandths of a request) per second.</summary>
    public double PermitsPerSecond { get; }

    /// <summary>The highest capture (<c>$N</c>) the key uses: the location's regex then keeps its match for it.</summary>
    public int HighestCapture { get; }

    /// <summary>How many keys have a bucket now (each holds a few hundred bytes).</summary>
    public int TrackedKeys => Volatile.Read(ref _trackedKeys);

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

        try
        {
            return Settings.Delay
                ? _limiter.AcquireAsync(key, PermitsPerRequest, context.RequestAborted)
                : new ValueTask<RateLimitLease>(_limiter.AttemptAcquire(key, PermitsPerRequest));
        }
        catch (ObjectDisposedException)
        {
            // A reload retired this limiter after the request read its configuration, or the framework dropped the
            // key's idle bucket just as the request found it; either way the key's next bucket starts full, which
            // would admit the request too.
            return new ValueTask<RateLimitLease>(NotLimited);
        }
    }

    /// <summary>The state of <paramref name="key"/>'s bucket (creating it when there is none): its permits and queued requests.</summary>
    internal RateLimiterStatistics? Statistics(RateLimitKey key) => _limiter.GetStatistics(key);

    /// <summary>Whether a <c>RateLimit</c> already counted the request (before an internal redirect).</summary>
    public static bool Counted(HttpContext context) => context.Features.Get<CountedFeature>() is not null;

    /// <summary>When a bucket holding <paramref name="available"/> permits has enough for one more request.</summary>
    internal TimeSpan RetryAfter(long available, int permitCount) =>
        TimeSpan.FromSeconds(Math.Max(permitCount - available, 1) / PermitsPerSecond);

    internal void BucketCreated() => Interlocked.Increment(ref _trackedKeys);

    internal void BucketDisposed() => Interlocked.Decrement(ref _trackedKeys);

    /// <summary>Stops the limiter's timer and drops its buckets; requests still waiting go on.</summary>
    public void Dispose() => _limiter.Dispose();

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
