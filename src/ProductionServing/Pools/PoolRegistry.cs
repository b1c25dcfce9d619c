using Microsoft.Extensions.Logging;
using ProductionServing.Diagnostics;

namespace ProductionServing.Pools;

/// <summary>
/// Builds the pools of each configuration snapshot, keeping what a reload must not lose: a pool that
/// stays (by name) keeps its running requests, its queue and its threads and only takes the new
/// limits; a pool that goes serves what it already holds, then ends its threads. The pools in force are
/// the ones the pool gauges of <see cref="ServingMetrics"/> report.
/// </summary>
internal sealed class PoolRegistry
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ServingMetrics _metrics;
    private readonly List<WorkerPool> _retiring = [];
    private Dictionary<string, WorkerPool> _pools = new(StringComparer.OrdinalIgnoreCase);
    private bool _stopping;
    private bool _workersStopped;

    public PoolRegistry(TimeProvider time, ILoggerFactory loggerFactory, ServingMetrics metrics)
    {
        _time = time;
        _logger = loggerFactory.CreateLogger("ProductionServing.Pools");
        _metrics = metrics;
        metrics.ObservePools(this);
    }

    /// <summary>The pools in force (the <c>default</c> pool always among them).</summary>
    public IReadOnlyCollection<WorkerPool> Pools
    {
        get
        {
            lock (_lock)
            {
                return _pools.Values;
            }
        }
    }

    /// <summary>Compiles the pools of <paramref name="options"/>: each configured one, and <c>default</c>.</summary>
    public Dictionary<string, WorkerPool> Build(ProductionServingOptions options)
    {
        lock (_lock)
        {
            var pools = new Dictionary<string, WorkerPool>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, configured) in options.Pools)
            {
                pools[name] = Get(name, configured);
            }

            if (!pools.ContainsKey(PoolOptions.DefaultPoolName))
            {
                pools[PoolOptions.DefaultPoolName] = Get(PoolOptions.DefaultPoolName, new PoolOptions());
            }

            _retiring.RemoveAll(static pool => pool.IsIdle);
            foreach (var (name, pool) in _pools)
            {
                if (!pools.ContainsKey(name))
                {
                    // Its requests were admitted under the old snapshot and finish there; then its threads
                    // end. Until then shutdown still drains it.
                    pool.Retire();
                    _retiring.Add(pool);
                }
            }

            _pools = pools;
            return pools;
        }
    }

    /// <summary>From now on new arrivals get 503 in every pool (the host is stopping).</summary>
    public void BeginStopping()
    {
        lock (_lock)
        {
            _stopping = true;
            foreach (var pool in All())
            {
                pool.BeginStopping();
            }
        }
    }

    /// <summary>Completes when no pool runs or queues anything.</summary>
    public Task WhenDrained() => WhenAll(static pool => pool.WhenDrained());

    /// <summary>Answers 503 to every request still queued.</summary>
    public void RejectQueued()
    {
        List<WorkerPool> pools;
        lock (_lock)
        {
            pools = All();
        }

        foreach (var pool in pools)
        {
            if (pool.RejectQueued() is > 0 and var count)
            {
                PoolLog.QueueDroppedAtShutdown(_logger, pool.Name, count);
            }
        }
    }

    /// <summary>Ends every dedicated thread: idle ones now (the task), busy ones when their request ends.</summary>
    public Task StopWorkers()
    {
        lock (_lock)
        {
            _workersStopped = true; // a pool a late reload creates gets no threads either
        }

        return WhenAll(static pool => pool.StopWorkers());
    }

    /// <summary>The pools in force and those a reload removed that still hold requests; call under the lock.</summary>
    private List<WorkerPool> All() => [.. _pools.Values, .. _retiring];

    private Task WhenAll(Func<WorkerPool, Task> each)
    {
        List<WorkerPool> pools;
        lock (_lock)
        {
            pools = All();
        }

        var tasks = new List<Task>(pools.Count);
        foreach (var pool in pools)
        {
            tasks.Add(each(pool));
        }

        return Task.WhenAll(tasks);
    }

    private WorkerPool Get(string name, PoolOptions options)
    {
        if (_pools.TryGetValue(name, out var pool))
        {
            pool.Configure(options);
            return pool;
        }

        pool = new WorkerPool(name, options, _time, _logger, _metrics);
        if (_stopping)
        {
            pool.BeginStopping();
        }

        if (_workersStopped)
        {
            _ = pool.StopWorkers();
        }

        return pool;
    }
}
