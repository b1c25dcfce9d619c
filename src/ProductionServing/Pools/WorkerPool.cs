using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ProductionServing.Pools;

/// <summary>
/// A named worker pool (SPEC §3.4, gunicorn's workers in-process). Admission: a request runs when fewer
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
internal sealed class WorkerPool
{
    private static readonly long ReportEvery = TimeSpan.FromSeconds(10).Ticks;

    private readonly Lock _lock = new();
    private readonly LinkedList<PoolWaiter> _queue = new();
    private readonly StandingQueue _standing = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _interval;
    private PoolSettings _settings;
    private DedicatedWorkers? _workers;
    private TaskCompletionSource? _drained;
    private int _running;
    private bool _stopping;
    private long _target;
    private long _rejected;
    private long _lastReport;

    public WorkerPool(string name, PoolOptions options, TimeProvider time, ILogger logger)
    {
        Name = name;
        _time = time;
        _logger = logger;
        _interval = ToTimestamp(StandingQueue.Interval);
        _settings = null!;
        Configure(options);
    }

    public string Name { get; }

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
            if (settings.Workers > 0)
            {
                _workers ??= new DedicatedWorkers(Name, _logger);
                _workers.Resize(settings.Workers);
            }
            else if (_workers is not null)
            {
                _ = _workers.StopAll(); // busy ones end with their request
                _workers = null;
            }

            _target = ToTimestamp(settings.TargetQueueDelay);
            Volatile.Write(ref _settings, settings);
            Pump();
        }
    }

    /// <summary>Runs the app for <paramref name="context"/> through the pool, or answers 503.</summary>
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        PoolRejection rejection;
        PoolWaiter? waiter = null;
        WorkerThread? worker = null;
        lock (_lock)
        {
            rejection = TryEnter(out worker, ref waiter);
        }

        return rejection != PoolRejection.None ? Reject(context, rejection)
            : waiter is null ? RunAsync(context, next, worker)
            : WaitThenRunAsync(context, next, waiter);
    }

    /// <summary>New arrivals get 503 from now on; queued and running requests go on.</summary>
    public void BeginStopping()
    {
        lock (_lock)
        {
            _stopping = true;
            CheckDrained();
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

            CheckDrained();
        }

        foreach (var waiter in dropped)
        {
            waiter.TrySetResult(PoolRejection.ShuttingDown);
        }

        return dropped.Count;
    }

    /// <summary>Ends the dedicated threads: idle ones now (awaited), busy ones when their request ends.</summary>
    public Task StopWorkers()
    {
        lock (_lock)
        {
            return _workers?.StopAll() ?? Task.CompletedTask;
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

    private async Task WaitThenRunAsync(HttpContext context, RequestDelegate next, PoolWaiter waiter)
    {
        var timer = _time.CreateTimer(static s => ((PoolWaiter)s!).Pool.Leave((PoolWaiter)s!, PoolRejection.QueueTimeout),
            waiter, _settings.QueueTimeout, Timeout.InfiniteTimeSpan);
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

        if (rejection != PoolRejection.None)
        {
            await Reject(context, rejection);
            return;
        }

        await RunAsync(context, next, waiter.Worker);
    }

    private Task RunAsync(HttpContext context, RequestDelegate next, WorkerThread? worker)
    {
        if (_settings.RequestTimeout is { } timeout)
        {
            return RunWithDeadlineAsync(context, next, worker, timeout);
        }

        var app = Start(context, next, worker);
        if (app.IsCompletedSuccessfully)
        {
            Release(worker);
            return Task.CompletedTask;
        }

        return ReleaseWhenDoneAsync(app, worker);
    }

    private async Task ReleaseWhenDoneAsync(Task app, WorkerThread? worker)
    {
        try
        {
            await app;
        }
        finally
        {
            Release(worker);
        }
    }

    private async Task RunWithDeadlineAsync(HttpContext context, RequestDelegate next, WorkerThread? worker, TimeSpan timeout)
    {
        var deadline = new RequestDeadline(context, timeout, _time, new DeadlineState(this, worker, timeout).Abandon);
        try
        {
            var app = Start(context, next, worker);
            if (!app.IsCompleted)
            {
                await Task.WhenAny(app, deadline.Abandoned);
            }

            if (!deadline.TryFinish())
            {
                // Given up on: answered and released by Abandon; the app's task is left to end on its own.
                _ = app.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                return;
            }

            try
            {
                await app;
            }
            catch (OperationCanceledException) when (deadline.TimedOut && !deadline.ClientGone)
            {
                // The app honoured the cancellation: answer for it (ASP.NET Core's request timeouts do the same).
                PoolLog.RequestTimedOut(_logger, Name, timeout, AnswerTimeout(context));
            }
            finally
            {
                Release(worker);
            }
        }
        finally
        {
            deadline.Dispose();
        }
    }

    /// <summary>
    /// The app still runs past its grace (called on the timer's thread, as the request's own thread may be
    /// the stuck one): answer the client for it, free its slot and replace its dedicated worker, so the
    /// pool keeps its capacity (gunicorn's worker timeout).
    /// </summary>
    private void Abandon(RequestDeadline deadline, WorkerThread? worker, TimeSpan timeout)
    {
        // The stuck code keeps the HttpContext: the connection must not carry another request after this
        // one (a later write of that code then fails instead of landing in someone else's response).
        var context = deadline.Context;
        var started = context.Response.HasStarted;
        var outcome = AnswerTimeout(context);
        if (worker is null)
        {
            PoolLog.RequestAbandoned(_logger, Name, timeout, outcome);
        }
        else
        {
            string replacement;
            int replacements;
            lock (_lock)
            {
                replacement = _workers is { } workers ? workers.Replace(worker) : "none (the pool no longer has dedicated threads)";
                replacements = _workers?.Replacements ?? 0;
            }

            PoolLog.WorkerReplaced(_logger, Name, worker.Name, timeout, outcome, replacement, replacements);
        }

        if (!started)
        {
            if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
            {
                context.Response.Headers.Connection = "close";
            }

            _ = SendNowAsync(context.Response);
        }

        // The stuck worker was replaced (or ends by itself): only its slot comes back.
        Release(null);
    }

    /// <summary>Sends the answer now rather than when the stuck code returns.</summary>
    private static async Task SendNowAsync(HttpResponse response)
    {
        try
        {
            await response.CompleteAsync();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            // The client is gone, or the stuck code raced us to the response: nothing more to send.
        }
    }

    private static string AnswerTimeout(HttpContext context)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return "aborted (its response had started)";
        }

        ErrorResponse.Write(context.Response, StatusCodes.Status504GatewayTimeout);
        return "answered 504";
    }

    private static Task Start(HttpContext context, RequestDelegate next, WorkerThread? worker)
    {
        if (worker is not null)
        {
            return worker.Start(context, next);
        }

        try
        {
            return next(context);
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
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
            CheckDrained();
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

    /// <summary>Feeds the standing-queue test; while the queue stands, sheds waiters older than the target.</summary>
    private bool ObserveQueue(long now)
    {
        if (!_standing.Observe(now, _queue.Count, _target, _interval))
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
            CheckDrained();
        }

        waiter.TrySetResult(reason);
    }

    private PoolWaiter Dequeue(LinkedListNode<PoolWaiter> node)
    {
        _queue.Remove(node);
        node.Value.Node = null;
        return node.Value;
    }

    private void CheckDrained()
    {
        if (_stopping && _running == 0 && _queue.Count == 0 && _drained is { } drained)
        {
            _drained = null;
            drained.TrySetResult();
        }
    }

    private Task Reject(HttpContext context, PoolRejection rejection)
    {
        if (rejection == PoolRejection.ClientGone)
        {
            return Task.CompletedTask;
        }

        PoolLog.Rejected(_logger, Name, rejection);
        ReportOverload(rejection);
        if (!context.Response.HasStarted)
        {
            ErrorResponse.Write(context.Response, StatusCodes.Status503ServiceUnavailable);
            context.Response.Headers.RetryAfter = ErrorResponse.RetryAfter;
        }

        return Task.CompletedTask;
    }

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

    /// <summary>What an abandonment needs, bound once per request instead of in a closure.</summary>
    private sealed class DeadlineState(WorkerPool pool, WorkerThread? worker, TimeSpan timeout)
    {
        public void Abandon(RequestDeadline deadline) => pool.Abandon(deadline, worker, timeout);
    }
}
