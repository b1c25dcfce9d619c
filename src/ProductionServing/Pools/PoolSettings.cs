namespace ProductionServing.Pools;

/// <summary>A pool's validated options, read once per request; a reload swaps in a new instance.</summary>
internal sealed class PoolSettings(PoolOptions options)
{
    /// <summary>How many requests may run at once: <c>Workers</c> with dedicated threads, else <c>MaxConcurrency</c>.</summary>
    public int Limit { get; } = options.DedicatedThreads ? options.Workers!.Value : options.MaxConcurrency;

    /// <summary>The number of dedicated worker threads, or 0 when the app runs on the thread pool.</summary>
    public int Workers { get; } = options.DedicatedThreads ? options.Workers!.Value : 0;

    public int QueueLimit { get; } = options.QueueLimit;

    public TimeSpan QueueTimeout { get; } = options.QueueTimeout;

    public TimeSpan? RequestTimeout { get; } = options.RequestTimeout;

    public bool AdaptiveLifo { get; } = options.QueueOrder == QueueOrder.AdaptiveLifo;

    public TimeSpan TargetQueueDelay { get; } = options.TargetQueueDelay;
}
