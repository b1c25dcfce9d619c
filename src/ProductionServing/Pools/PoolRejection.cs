namespace ProductionServing.Pools;

/// <summary>How a request's admission to a pool ended; every value but <see cref="None"/> keeps it from the app.</summary>
internal enum PoolRejection
{
    /// <summary>Admitted: the request runs.</summary>
    None,

    /// <summary>The pool was full and so was its queue: 503 at once.</summary>
    QueueFull,

    /// <summary>Waited <c>QueueTimeout</c> without a slot: 503.</summary>
    QueueTimeout,

    /// <summary><c>AdaptiveLifo</c> shed it: it waited past <c>TargetQueueDelay</c> while the queue stood: 503.</summary>
    Shed,

    /// <summary>The host is stopping: new arrivals, and requests still queued when the shutdown timeout nears, get 503.</summary>
    ShuttingDown,

    /// <summary>The client went away while queued: nothing is answered.</summary>
    ClientGone,
}
