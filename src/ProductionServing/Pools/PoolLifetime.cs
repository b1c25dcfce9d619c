using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ProductionServing.Pools;

/// <summary>
/// Graceful shutdown of the pools (docs/pools.md, Shutdown), gunicorn's graceful stop in-process. When the host starts
/// stopping, new arrivals get 503 with <c>Retry-After</c> while queued and running requests go on; just
/// before the host's <c>ShutdownTimeout</c> runs out, requests still queued get 503 (answered, not dropped
/// with their connection); once every pool is drained, or the timeout has passed, the dedicated threads end.
/// </summary>
internal sealed class PoolLifetime(PoolRegistry pools, IHostApplicationLifetime lifetime, IOptions<HostOptions> hostOptions, TimeProvider time)
    : IHostedService, IDisposable
{
    /// <summary>A timer's longest due time; a longer shutdown timeout never runs out in practice.</summary>
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private CancellationTokenRegistration _stopping;
    private ITimer? _deadline;
    private int _began;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(static s => ((PoolLifetime)s!).BeginStopping(), this);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BeginStopping();
        try
        {
            await pools.WhenDrained().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The shutdown timeout passed: whatever still waits is answered now, running requests are the host's.
            pools.RejectQueued();
        }

        var stopped = pools.StopWorkers();
        if (!cancellationToken.IsCancellationRequested)
        {
            await stopped.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _deadline?.Dispose();
    }

    private void BeginStopping()
    {
        if (Interlocked.Exchange(ref _began, 1) == 1)
        {
            return;
        }

        pools.BeginStopping();

        // Answer the queue a little before the host gives up on its connections (10 % of the timeout, at
        // most a second): a queued request then gets a 503 it can retry instead of a dropped connection.
        var timeout = hostOptions.Value.ShutdownTimeout;
        if (timeout != Timeout.InfiniteTimeSpan && timeout < MaxTimer)
        {
            var margin = TimeSpan.FromTicks(Math.Min(timeout.Ticks / 10, TimeSpan.TicksPerSecond));
            _deadline = time.CreateTimer(static s => ((PoolRegistry)s!).RejectQueued(), pools, timeout - margin, Timeout.InfiniteTimeSpan);
        }
    }
}
