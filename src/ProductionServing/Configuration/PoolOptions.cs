namespace ProductionServing;

/// <summary>
/// A worker pool that runs the app (gunicorn's workers): bounded concurrency, a bounded queue,
/// timeouts and 503 under overload.
/// </summary>
public sealed class PoolOptions
{
    /// <summary>The name of the pool that serves unmatched requests and <c>@app</c> fallbacks.</summary>
    public const string DefaultPoolName = "default";

    /// <summary>
    /// The most requests running at once. Default: 256. With <see cref="DedicatedThreads"/>,
    /// <see cref="Workers"/> is the limit instead.
    /// </summary>
    public int MaxConcurrency { get; set; } = 256;

    /// <summary>
    /// How many more requests may wait; when the queue is full a request gets 503 with
    /// <c>Retry-After</c> at once. 0 means no queue. Default: 1024.
    /// </summary>
    public int QueueLimit { get; set; } = 1024;

    /// <summary>How long a request may wait in the queue before 503. Default: 10 seconds.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The number of dedicated worker threads (gunicorn sync workers); each runs one request at a
    /// time. Required with <see cref="DedicatedThreads"/>, not allowed without it. Default:
    /// <see langword="null"/>.
    /// </summary>
    public int? Workers { get; set; }

    /// <summary>
    /// When <see langword="true"/>, the pool owns <see cref="Workers"/> OS threads and a request's
    /// app code, including the continuations of its awaits, runs on them, so blocking code cannot
    /// starve the rest of the server. Default: <see langword="false"/>.
    /// </summary>
    public bool DedicatedThreads { get; set; }

    /// <summary>
    /// How long a request may run before it is cancelled (<c>HttpContext.RequestAborted</c>) and,
    /// if nothing was sent yet, answered 504. Default: <see langword="null"/> (no limit).
    /// </summary>
    public TimeSpan? RequestTimeout { get; set; }

    /// <summary>The order queued requests are admitted in. Default: <see cref="ProductionServing.QueueOrder.Fifo"/>.</summary>
    public QueueOrder QueueOrder { get; set; } = QueueOrder.Fifo;

    /// <summary>
    /// For <see cref="ProductionServing.QueueOrder.AdaptiveLifo"/>: the queueing delay above which the
    /// queue is considered standing. Default: 5 milliseconds.
    /// </summary>
    public TimeSpan TargetQueueDelay { get; set; } = TimeSpan.FromMilliseconds(5);
}
