using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ProductionServing.Diagnostics;

namespace ProductionServing.Pools;

/// <summary>
/// A named worker pool (gunicorn's workers in-process; docs/pools.md). Admission: a request runs when fewer
/// than the limit run; otherwise it waits in the queue (up to <c>QueueLimit</c>, at most
/// <c>QueueTimeout</c>) and a finishing request hands its slot straight to the next waiter; otherwise
/// 503 with <c>Retry-After</c>, and the app never sees it. The app then runs on the caller's thread, or
/// on one of the pool's <see cref="DedicatedWorkers"/>, under the pool's <c>RequestTimeout</c>.
/// </summary>
/// <remarks>
/// One lock guards the slot count, the queue and the idle workers, so a slot is handed over exactly
/// once whatever races between a release, a queue timeout, a client abort and a reload. A pool outlives
/// configuration reloads: <see cref="Configure"/> changes its limits and keeps its queue.
/// </remarks>
internal sealed partial class WorkerPool
{
    private static readonly long ReportEvery = TimeSpan.FromSeconds(10).Ticks;

    private readonly Lock _lock = new();
    private readonly LinkedList<PoolWaiter> _queue = new();
    private StandingQueue _standing = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ServingMetrics _metrics;
    private readonly long _interval;
    private PoolSettings _settings;
    private DedicatedWorkers? _workers;
    private TaskCompletionSource? _drained;
    private int _running;
    private int _stuck;
    private bool _stopping;
    private bool _retired;
    private bool _workersStopped;
    private long _target;
    private long _rejected;
    private long _lastReport;
    private long _lastRejection;
    private int _lastRejectionReason;

    public WorkerPool(string name, PoolOptions options, TimeProvider time, ILogger logger, ServingMetrics metrics)
    {
        Name = name;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _interval = ToTimestamp(StandingQueue.Interval);
        _settings = null!;
        Configure(options);
    }

    public string Name { get; }

    /// <summary>The settings in force.</summary>
    public PoolSettings Settings => Volatile.Read(ref _settings);

    /// <summary>Requests running now.</summary>
    public int Running
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    /// <summary>Requests waiting now.</summary>
    public int QueueLength
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>How many stuck dedicated workers were replaced.</summary>
    public int Replacements
    {
        get
        {
            lock (_lock)
            {
                return _workers?.Replacements ?? 0;
            }
        }
    }

    /// <summary>
    /// Applies (new) options: limits apply at once (a raised limit admits waiters now, a lowered one
    /// admits no one until enough requests end), dedicated threads are started or ended to match, and
    /// queued requests keep their place.
    /// </summary>
    public void Configure(PoolOptions options)
    {
        var settings = new PoolSettings(options);
        lock (_lock)
        {
            // Once stopping has ended the threads, no thread is started again, whatever a late reload says.
            if (settings.Workers > 0 && !_workersStopped)
            {
                _workers ??= new DedicatedWorkers(Name, _logger);
                _workers.Resize(settings.Workers);
            }
            else if (settings.Workers == 0 && _workers is not null)
            {
                _ = _workers.StopAll(); // busy ones end with their request
                _workers = null;
            }

            if (_settings is null || _settings.AdaptiveLifo != settings.AdaptiveLifo)
            {
                _standing = new StandingQueue();
            }

            _target = ToTimestamp(settings.TargetQueueDelay);
            Volatile.Write(ref _settings, settings);
            Pump();
        }
    }

    /// <summary>Runs the app for <paramref name="context"/> through the pool, or answers 503.</summary>
    /// <param name="context">The request.</param>
    /// <param name="next">The app.</param>
    /// <param name="record">Where the request's time goes (its queue wait is written there), or null.</param>
    /// <param name="serverTiming">Whether the queue wait goes into a <c>Server-Timing</c> header before the app runs (only with a record).</param>
    public Task InvokeAsync(HttpContext context, RequestDelegate next, RequestRecord? record = null, bool serverTiming = false)
    {
        PoolRejection rejection;
        PoolWaiter? waiter = null;
        WorkerThread? worker = null;
        lock (_lock)
        {
            rejection = TryEnter(out worker, ref waiter);
        }

        if (waiter is not null)
        {
            return WaitThenRunAsync(context, next, waiter, record, serverTiming);
        }

        WaitEnded(context, 0, rejection, record, serverTiming);
        return rejection != PoolRejection.None ? Reject(context, rejection) : RunAsync(context, next, worker);
    }

    /// <summary>New arrivals get 503 from now on; queued and running requests go on.</summary>
    public void BeginStopping()
    {
        lock (_lock)
        {
            _stopping = true;
            CheckIdle();
        }
    }

    /// <summary>Completes when nothing runs or waits in a stopping pool.</summary>
    public Task WhenDrained()
    {
        lock (_lock)
        {
            if (_running == 0 && _queue.Count == 0)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    /// <summary>Answers every queued request 503 (the host's shutdown timeout is near); returns how many.</summary>
    public int RejectQueued()
    {
        List<PoolWaiter> dropped;
        lock (_lock)
        {
            dropped = new List<PoolWaiter>(_queue.Count);
            while (_queue.First is { } node)
            {
                _queue.RemoveFirst();
                node.Value.Node = null;
                dropped.Add(node.Value);
            }

            CheckIdle();
        }

        foreach (var waiter in dropped)
        {
            waiter.TrySetResult(PoolRejection.ShuttingDown);
        }

        return dropped.Count;
    }

    /// <summary>Ends the dedicated threads: idle ones now (the task), busy ones when their request ends.</summary>
    public Task StopWorkers()
    {
        lock (_lock)
        {
            _workersStopped = true;
            return _workers?.StopAll() ?? Task.CompletedTask;
        }
    }

    /// <summary>A reload removed the pool: it serves what it holds (from the old snapshot), then ends its threads.</summary>
    public void Retire()
    {
        lock (_lock)
        {
            _retired = true;
            CheckIdle();
        }
    }

    /// <summary>Whether nothing runs, waits or is stuck in the pool.</summary>
    public bool IsIdle
    {
        get
        {
            lock (_lock)
            {
                return _running == 0 && _queue.Count == 0 && _stuck == 0;
            }
        }
    }

    private PoolRejection TryEnter(out WorkerThread? worker, ref PoolWaiter? waiter)
    {
        worker = null;
        if (_stopping)
        {
            return PoolRejection.ShuttingDown;
        }

        var settings = _settings;
        var standing = settings.AdaptiveLifo && ObserveQueue(_time.GetTimestamp());
        if (_running < settings.Limit && _queue.Count == 0)
        {
            _running++;
            worker = _workers?.Take();
            return PoolRejection.None;
        }

        if (_queue.Count >= settings.QueueLimit)
        {
            // A standing queue sheds its oldest waiter for the newcomer (adaptive LIFO); otherwise the
            // newcomer is the one turned away.
            if (!standing || _queue.First is not { } oldest)
            {
                return PoolRejection.QueueFull;
            }

            Dequeue(oldest).TrySetResult(PoolRejection.Shed);
        }

        var now = _time.GetTimestamp();
        if (_queue.Count == 0)
        {
            _standing.Occupied(now);
        }

        waiter = new PoolWaiter(this, now);
        waiter.Node = _queue.AddLast(waiter);
        return PoolRejection.None;
    }

    private async Task WaitThenRunAsync(HttpContext context, RequestDelegate next, PoolWaiter waiter, RequestRecord? record, bool serverTiming)
    {
        // QueueTimeout counts from the moment it joined the queue, not from now.
        var remaining = _settings.QueueTimeout - _time.GetElapsedTime(waiter.EnqueuedAt);
        var timer = _time.CreateTimer(static s => ((PoolWaiter)s!).Pool.Leave((PoolWaiter)s!, PoolRejection.QueueTimeout),
            waiter, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        var registration = context.RequestAborted.UnsafeRegister(static s => ((PoolWaiter)s!).Pool.Leave((PoolWaiter)s!, PoolRejection.ClientGone), waiter);
        PoolRejection rejection;
        try
        {
            rejection = await waiter.Task;
        }
        finally
        {
            timer.Dispose();
            await registration.DisposeAsync();
        }

        // The wait ends when the request goes on (to the app or its 503), not when a slot was handed over:
        // the hop to the thread pool in between is time the client waited too.
        WaitEnded(context, _time.GetTimestamp() - waiter.EnqueuedAt, rejection, record, serverTiming);
        if (rejection == PoolRejection.ClientGone)
        {
            // As without a pool: the canceled request ends with OperationCanceledException, which the
            // server takes quietly for a client that left and outer middleware may answer otherwise.
            throw new OperationCanceledException(context.RequestAborted);
        }

        if (rejection != PoolRejection.None)
        {
            await Reject(context, rejection);
            return;
        }

        // Run here rather than through RunAsync, whose own state machine would be a second one per queued
        // request once the app does not end at once (always so on a dedicated worker).
        var worker = waiter.Worker;
        if (_settings.RequestTimeout is { } timeout)
        {
            await RunWithDeadlineAsync(context, next, worker, timeout);
            return;
        }

        try
        {
            await Start(context, next, worker);
        }
        finally
        {
            Release(worker);
        }
    }

    private void Release(WorkerThread? worker)
    {
        lock (_lock)
        {
            if (worker is not null)
            {
                if (_workers is { } workers)
                {
                    workers.Return(worker);
                }
                else
                {
                    worker.Stop(); // the pool dropped its dedicated threads while this one ran
                }
            }

            _running--;
            Pump();
            CheckIdle();
        }
    }

    /// <summary>Hands free slots to waiters: the oldest first, or the newest when the queue stands (adaptive LIFO).</summary>
    private void Pump()
    {
        var settings = _settings;
        if (_queue.Count == 0)
        {
            if (settings.AdaptiveLifo)
            {
                ObserveQueue(_time.GetTimestamp());
            }

            return;
        }

        var now = _time.GetTimestamp();
        var standing = settings.AdaptiveLifo && ObserveQueue(now);
        while (_running < settings.Limit && (standing ? _queue.Last : _queue.First) is { } node)
        {
            _running++;
            var waiter = Dequeue(node);
            waiter.Worker = _workers?.Take();
            waiter.TrySetResult(PoolRejection.None);
        }
    }

    /// <summary>Feeds the standing-queue test; while the queue stands (never once stopping), sheds waiters older than the target.</summary>
    private bool ObserveQueue(long now)
    {
        // Once the pool is stopping, nothing joins the queue any more: shedding old waiters would make room
        // for no newer request, so every waiter (admitted before the stop) runs, oldest first, and only the
        // shutdown timeout's deadline may still refuse them (docs/pools.md, "Shutdown").
        if (_stopping || !_standing.Observe(now, _queue.Count, _target, _interval))
        {
            return false;
        }

        while (_queue.First is { } oldest && now - oldest.Value.EnqueuedAt > _target)
        {
            Dequeue(oldest).TrySetResult(PoolRejection.Shed);
        }

        return true;
    }

    /// <summary>Takes a waiter off the queue if it is still there (a timer or an abort, racing a release).</summary>
    private void Leave(PoolWaiter waiter, PoolRejection reason)
    {
        lock (_lock)
        {
            if (waiter.Node is not { } node)
            {
                return;
            }

            Dequeue(node);
            CheckIdle();
        }

        waiter.TrySetResult(reason);
    }

    private PoolWaiter Dequeue(LinkedListNode<PoolWaiter> node)
    {
        _queue.Remove(node);
        node.Value.Node = null;
        return node.Value;
    }

    /// <summary>Signals a drained stopping pool, and ends a retired pool's threads once it is idle.</summary>
    private void CheckIdle()
    {
        if (_running != 0 || _queue.Count != 0)
        {
            return;
        }

        if (_stopping && _drained is { } drained)
        {
            _drained = null;
            drained.TrySetResult();
        }

        if (_retired && _workers is { } workers)
        {
            _ = workers.StopAll();
        }
    }

    /// <summary>
    /// Whether the pool turned a request away for want of room (a full queue, a queue timeout, a shed request;
    /// not a stopping host) within <paramref name="window"/>, and the last reason why.
    /// </summary>
    public bool RejectedWithin(TimeSpan window, out PoolRejection reason)
    {
        reason = (PoolRejection)Volatile.Read(ref _lastRejectionReason);
        var last = Volatile.Read(ref _lastRejection);
        return last != 0 && _time.GetElapsedTime(last) < window;
    }

    private Task Reject(HttpContext context, PoolRejection rejection)
    {
        var error = ErrorOf(rejection);
        PoolLog.Rejected(_logger, Name, rejection);
        if (rejection != PoolRejection.ShuttingDown)
        {
            Volatile.Write(ref _lastRejectionReason, (int)rejection);
            Volatile.Write(ref _lastRejection, Math.Max(1, _time.GetTimestamp()));
        }

        ReportOverload(rejection);
        _metrics.PoolRejected(Name, ErrorTypes.Of(error));
        return ErrorResponse.Answer(context, error);
    }

    private static ServingError ErrorOf(PoolRejection rejection) => rejection switch
    {
        PoolRejection.QueueFull => ServingError.PoolQueueFull,
        PoolRejection.QueueTimeout => ServingError.PoolQueueTimeout,
        PoolRejection.Shed => ServingError.PoolShed,
        _ => ServingError.PoolShuttingDown,
    };

    /// <summary>One warning per pool at most every 10 seconds while it turns requests away, with the count.</summary>
    private void ReportOverload(PoolRejection rejection)
    {
        var count = Interlocked.Increment(ref _rejected);
        var now = _time.GetUtcNow().UtcTicks;
        var last = Volatile.Read(ref _lastReport);
        if (now - last >= ReportEvery && Interlocked.CompareExchange(ref _lastReport, now, last) == last)
        {
            PoolLog.Overloaded(_logger, Name, count, rejection);
            Interlocked.Add(ref _rejected, -count);
        }
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

}
