using Microsoft.Extensions.ObjectPool;

namespace ProductionServing.Proxy;

/// <summary>
/// Reusable <see cref="CancellationTokenSource"/>s on a group's clock for the per-attempt
/// <c>ReadTimeout</c>: a source and its timer are allocated per request when made anew, and
/// <see cref="CancellationTokenSource.TryReset"/> makes one as good as new when it did not fire.
/// </summary>
internal sealed class TimeoutSourcePool(TimeProvider time)
{
    private readonly DefaultObjectPool<CancellationTokenSource> _pool = new(new Policy(time), maximumRetained: 256);

    /// <summary>A source that is not canceled and has no timer running; start one with <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>.</summary>
    public CancellationTokenSource Rent() => _pool.Get();

    /// <summary>Gives a source back once nothing uses its token; a canceled one is disposed instead.</summary>
    public void Return(CancellationTokenSource source) => _pool.Return(source);

    private sealed class Policy(TimeProvider time) : IPooledObjectPolicy<CancellationTokenSource>
    {
        public CancellationTokenSource Create() => new(Timeout.InfiniteTimeSpan, time);

        public bool Return(CancellationTokenSource source)
        {
            if (source.TryReset())
            {
                return true;
            }

            source.Dispose();
            return false;
        }
    }
}
