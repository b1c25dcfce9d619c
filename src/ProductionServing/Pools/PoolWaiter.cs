namespace ProductionServing.Pools;

/// <summary>
/// A request waiting in a pool's queue. Whoever takes it off the queue (under the pool's lock) completes
/// it, exactly once: with <see cref="PoolRejection.None"/> and a slot (and a worker) when it is admitted,
/// or with the reason it never will be.
/// </summary>
internal sealed class PoolWaiter(WorkerPool pool, long enqueuedAt)
    : TaskCompletionSource<PoolRejection>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public WorkerPool Pool { get; } = pool;

    /// <summary>When it joined the queue (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long EnqueuedAt { get; } = enqueuedAt;

    /// <summary>Its place in the queue while it waits; <see langword="null"/> once taken off.</summary>
    public LinkedListNode<PoolWaiter>? Node { get; set; }

    /// <summary>The dedicated worker it was admitted to, if the pool has dedicated threads.</summary>
    public WorkerThread? Worker { get; set; }
}
