namespace ProductionServing;

/// <summary>The order in which a pool admits queued requests.</summary>
public enum QueueOrder
{
    /// <summary>First come, first served.</summary>
    Fifo,

    /// <summary>
    /// CoDel-style: once the queue has stood longer than <see cref="PoolOptions.TargetQueueDelay"/>
    /// over a 100 ms interval, serve the newest first and shed requests that waited past the
    /// target with 503.
    /// </summary>
    AdaptiveLifo,
}
