namespace ProductionServing.Status;

/// <summary>
/// One location's last failed requests and its slowest recent ones, each a small fixed set. A request
/// that is neither failed nor slower than the slowest kept ones reads one field and takes no lock.
/// </summary>
/// <remarks>
/// "Slowest" is kept per window rather than since start: the first requests after a start (a cold JIT,
/// empty caches) would otherwise hold the list for ever. Each entry stays <see cref="SlowWindow"/>; while
/// the set is not full every request may enter it, and once full only one slower than its fastest.
/// </remarks>
internal sealed class RecentRequests
{
    /// <summary>How many failed and how many slow requests are kept per location.</summary>
    public const int Kept = 5;

    /// <summary>How long a slow request stays listed: the span of the sparklines.</summary>
    public static readonly TimeSpan SlowWindow = TimeSpan.FromMinutes(5);

    private readonly Lock _lock = new();
    private readonly RecentRequest?[] _failed = new RecentRequest?[Kept];
    private readonly List<RecentRequest> _slowest = new(Kept + 1);
    private int _nextFailed;

    /// <summary>The duration a request must exceed to enter the slow set; -1 while the set has room.</summary>
    private long _slowThreshold = -1;

    /// <summary>Whether a request of <paramref name="durationTicks"/> would enter the slow set (read without a lock).</summary>
    public bool IsSlow(long durationTicks) => durationTicks > Volatile.Read(ref _slowThreshold);

    public void AddFailed(RecentRequest request)
    {
        lock (_lock)
        {
            _failed[_nextFailed] = request;
            _nextFailed = (_nextFailed + 1) % Kept;
        }
    }

    public void OfferSlow(RecentRequest request)
    {
        lock (_lock)
        {
            var at = 0;
            while (at < _slowest.Count && _slowest[at].DurationTicks >= request.DurationTicks)
            {
                at++;
            }

            if (at == Kept)
            {
                return;
            }

            _slowest.Insert(at, request);
            if (_slowest.Count > Kept)
            {
                _slowest.RemoveAt(Kept);
            }

            UpdateThreshold();
        }
    }

    /// <summary>Drops slow entries that ended before <paramref name="before"/> (a timestamp).</summary>
    public void Expire(long before)
    {
        lock (_lock)
        {
            if (_slowest.RemoveAll(r => r.Timestamp < before) > 0)
            {
                UpdateThreshold();
            }
        }
    }

    /// <summary>The failed requests, newest first.</summary>
    public RecentRequest[] Failed()
    {
        lock (_lock)
        {
            var list = new List<RecentRequest>(Kept);
            for (var i = 1; i <= Kept; i++)
            {
                if (_failed[(_nextFailed - i + Kept) % Kept] is { } request)
                {
                    list.Add(request);
                }
            }

            return [.. list];
        }
    }

    /// <summary>The slow requests, slowest first.</summary>
    public RecentRequest[] Slowest()
    {
        lock (_lock)
        {
            return [.. _slowest];
        }
    }

    private void UpdateThreshold() =>
        Volatile.Write(ref _slowThreshold, _slowest.Count < Kept ? -1 : _slowest[^1].DurationTicks);
}
