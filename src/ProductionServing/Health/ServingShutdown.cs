using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ProductionServing.Configuration;
using ProductionServing.Pools;

namespace ProductionServing.Health;

/// <summary>
/// The host's stop, in the order a rolling deploy needs (docs/operating.md, "Health checks and drain"):
/// the moment the host begins stopping, <see cref="IsStopping"/> turns the readiness check Unhealthy;
/// for <see cref="ShutdownOptions.DrainDelay"/> requests are still served as before, while load balancers
/// take the instance out; then the pools turn new arrivals away with 503 and drain (docs/pools.md,
/// Shutdown, gunicorn's graceful stop in-process), and the server stops accepting.
/// </summary>
/// <remarks>
/// The delay runs in <see cref="StoppingAsync"/>: the host calls every <see cref="IHostedLifecycleService.StoppingAsync"/>
/// before any hosted service's <see cref="IHostedService.StopAsync"/>, the server's included, so Kestrel keeps
/// accepting through it whatever the order the services were registered in. Just before the host's
/// <c>ShutdownTimeout</c> (counted from the start of the stop, so the delay included) runs out, requests
/// still queued get 503 (answered, not dropped with their connection); once every pool is drained, or the
/// timeout has passed, the dedicated threads end.
/// </remarks>
internal sealed class ServingShutdown(PoolRegistry pools, IHostApplicationLifetime lifetime, IOptions<HostOptions> hostOptions,
    IServiceProvider services, TimeProvider time)
    : IHostedLifecycleService, IDisposable
{
    /// <summary>A timer's longest due time; a longer shutdown timeout never runs out in practice.</summary>
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private CancellationTokenRegistration _stopping;
    private ITimer? _deadline;
    private readonly Lock _stopLock = new();
    private long _stopStarted;
    private TimeSpan _drainDelay;
    private int _poolsStopping;
    private int _drained;

    /// <summary>Whether the host has begun stopping (readiness fails from then on).</summary>
    public bool IsStopping => Volatile.Read(ref _stopStarted) != 0;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // SIGTERM and Ctrl+C raise ApplicationStopping before the host's stop calls StoppingAsync.
        _stopping = lifetime.ApplicationStopping.Register(static s => ((ServingShutdown)s!).BeginStop(), this);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        BeginStop();
        TimeSpan delay;
        lock (_stopLock)
        {
            delay = _drainDelay;
        }


        // Once per host: a second StopAsync (a host stopped, then disposed) has nothing left to drain.
        if (delay > TimeSpan.Zero && Interlocked.Exchange(ref _drained, 1) == 0)
        {
            // Cancelled when the shutdown timeout runs out first: the pools then stop at once.
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        StopPools();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BeginStop();
        StopPools();
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

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _stopping.Dispose();
        _deadline?.Dispose();
    }

    /// <summary>
    /// The delay of the configuration in force (the last good one after a refused reload). The holder is looked up,
    /// not injected: it compiles the configuration, which UseProductionServing() does first, with its errors.
    /// </summary>
    private TimeSpan DrainDelay
    {
        get
        {
            try
            {
                return services.GetService<ServingConfigHolder>()?.Current.DrainDelay ?? TimeSpan.Zero;
            }
            catch (OptionsValidationException)
            {
                // A configuration that does not compile never served a request: nothing to drain. Its errors
                // are UseProductionServing()'s to report, at startup, not the stop's.
                return TimeSpan.Zero;
            }
        }
    }

    private void BeginStop()
    {
        lock (_stopLock)
        {
            if (Volatile.Read(ref _stopStarted) != 0)
            {
                return;
            }

            // Read once per stop: a reload between ApplicationStopping and StoppingAsync must not give half of each.
            _drainDelay = DrainDelay;
            Volatile.Write(ref _stopStarted, Math.Max(1, time.GetTimestamp()));
        }

        // Without a drain delay the pools turn arrivals away at once, as they always did: a host stopped by
        // SIGTERM gets here before the host's stop begins.
        if (_drainDelay <= TimeSpan.Zero)
        {
            StopPools();
        }
    }

    private void StopPools()
    {
        if (Interlocked.Exchange(ref _poolsStopping, 1) == 1)
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
            var due = timeout - margin - time.GetElapsedTime(Volatile.Read(ref _stopStarted));
            _deadline = time.CreateTimer(static s => ((PoolRegistry)s!).RejectQueued(), pools,
                due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }
}
