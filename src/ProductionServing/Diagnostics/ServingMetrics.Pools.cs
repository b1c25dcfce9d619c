using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using ProductionServing.Pools;

namespace ProductionServing.Diagnostics;

/// <summary>
/// The worker pools' instruments: what gunicorn's statsd integration and ASP.NET Core's
/// <c>aspnetcore.rate_limiting.*</c> instruments show for their queues (length, wait, rejections), plus
/// what only a pool with <c>RequestTimeout</c> and dedicated threads knows (timeouts, replaced workers).
/// </summary>
/// <remarks>
/// The gauges are observed from the pools in force (<see cref="PoolRegistry.Pools"/>), read when a
/// listener collects: a pool kept across a reload is one series, and a pool a reload removed stops
/// reporting at once, even while it still drains what it held. The queue wait is recorded for every
/// request a pool admits or turns away, so its count is the pool's traffic and its <c>error.type</c>
/// split is the share turned away (OpenTelemetry sets <c>error.type</c> only when the operation failed).
/// </remarks>
internal sealed partial class ServingMetrics
{
    /// <summary>The tag of how a request that ran past its pool's <c>RequestTimeout</c> ended: <c>answered</c> (504) or <c>aborted</c>.</summary>
    public const string TimeoutOutcomeTag = "production_serving.timeout.outcome";

    private Histogram<double> _poolQueueDuration;
    private Counter<long> _poolRejections;
    private Counter<long> _poolRequestTimeouts;
    private Counter<long> _poolWorkersReplaced;
    private PoolRegistry? _pools;

    public bool PoolQueueDurationEnabled => _poolQueueDuration.Enabled;

    /// <summary>Makes <paramref name="pools"/> the pools the gauges report.</summary>
    public void ObservePools(PoolRegistry pools) => Volatile.Write(ref _pools, pools);

    /// <summary>Records how long a request waited for a pool's admission (zero when admitted or turned away at once).</summary>
    /// <param name="pool">The pool's name.</param>
    /// <param name="wait">From its arrival at the pool to the end of its wait.</param>
    /// <param name="errorType">Why the wait ended without a slot (a rejection, or the client leaving), or null when it was admitted.</param>
    public void PoolQueueWaited(string pool, TimeSpan wait, string? errorType)
    {
        if (_poolQueueDuration.Enabled)
        {
            PoolQueueWaitedCore(pool, wait, errorType);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PoolQueueWaitedCore(string pool, TimeSpan wait, string? errorType)
    {
        var poolTag = new KeyValuePair<string, object?>(PoolTag, pool);
        if (errorType is null)
        {
            _poolQueueDuration.Record(wait.TotalSeconds, poolTag);
        }
        else
        {
            _poolQueueDuration.Record(wait.TotalSeconds, poolTag, new KeyValuePair<string, object?>(ErrorTypeTag, errorType));
        }
    }

    /// <summary>Counts a request a pool answered 503 without running it.</summary>
    public void PoolRejected(string pool, string errorType)
    {
        if (_poolRejections.Enabled)
        {
            _poolRejections.Add(1, new KeyValuePair<string, object?>(PoolTag, pool), new KeyValuePair<string, object?>(ErrorTypeTag, errorType));
        }
    }

    /// <summary>Counts a request that ran past its pool's <c>RequestTimeout</c>, by how it was answered.</summary>
    public void PoolRequestTimedOut(string pool, TimeoutOutcome outcome)
    {
        if (_poolRequestTimeouts.Enabled)
        {
            _poolRequestTimeouts.Add(1, new KeyValuePair<string, object?>(PoolTag, pool),
                new KeyValuePair<string, object?>(TimeoutOutcomeTag, outcome == TimeoutOutcome.Answered ? "answered" : "aborted"));
        }
    }

    /// <summary>Counts a dedicated worker abandoned to a stuck request (a fresh one takes its place unless the pool is shrinking).</summary>
    public void PoolWorkerReplaced(string pool)
    {
        if (_poolWorkersReplaced.Enabled)
        {
            _poolWorkersReplaced.Add(1, new KeyValuePair<string, object?>(PoolTag, pool));
        }
    }

    [MemberNotNull(nameof(_poolQueueDuration), nameof(_poolRejections), nameof(_poolRequestTimeouts), nameof(_poolWorkersReplaced))]
    private void CreatePoolInstruments()
    {
        _poolQueueDuration = Meter.CreateHistogram(
            "production_serving.pool.queue.duration",
            unit: "s",
            description: "Time a request waited for a pool's admission, zero when admitted or turned away at once; error.type says why a wait ended without a slot.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _poolRejections = Meter.CreateCounter<long>(
            "production_serving.pool.rejections",
            unit: "{request}",
            description: "Requests a pool answered 503 without running the app, by error.type: queue_full, queue_timeout, queue_shed or shutting_down.");
        _poolRequestTimeouts = Meter.CreateCounter<long>(
            "production_serving.pool.request_timeouts",
            unit: "{request}",
            description: "Requests that ran past their pool's RequestTimeout: answered 504, or aborted when their response had started.");
        _poolWorkersReplaced = Meter.CreateCounter<long>(
            "production_serving.pool.workers.replaced",
            unit: "{worker}",
            description: "Dedicated worker threads abandoned to a request stuck past its RequestTimeout and its grace.");
        Meter.CreateObservableUpDownCounter(
            "production_serving.pool.queue.length",
            () => ObservePools(static pool => pool.QueueLength),
            unit: "{request}",
            description: "Requests waiting in a pool's queue now.");
        Meter.CreateObservableUpDownCounter(
            "production_serving.pool.workers.busy",
            () => ObservePools(static pool => pool.Running),
            unit: "{request}",
            description: "Requests holding one of a pool's slots now (a request given up on after its RequestTimeout no longer holds one).");
        Meter.CreateObservableUpDownCounter(
            "production_serving.pool.workers.limit",
            () => ObservePools(static pool => pool.Settings.Limit),
            unit: "{request}",
            description: "How many requests a pool runs at once: its Workers with dedicated threads, else its MaxConcurrency.");
    }

    private List<Measurement<int>> ObservePools(Func<WorkerPool, int> read)
    {
        var measurements = new List<Measurement<int>>();
        if (Volatile.Read(ref _pools) is { } registry)
        {
            foreach (var pool in registry.Pools)
            {
                measurements.Add(new Measurement<int>(read(pool), new KeyValuePair<string, object?>(PoolTag, pool.Name)));
            }
        }

        return measurements;
    }
}
