using Microsoft.Extensions.Logging;

namespace ProductionServing.Pools;

/// <summary>
/// One dedicated OS thread of a pool (a gunicorn sync worker): it runs one request's app code at a time,
/// and the continuations of that code's awaits, from its own queue.
/// </summary>
internal sealed class WorkerThread
{
    /// <summary>
    /// How many times an idle worker yields its core before it sleeps. Waking a sleeping thread costs a
    /// futex call and a context switch on both sides (on a virtualized core, tens of microseconds); under
    /// load the next request is usually handed over within a few yields, to a worker still awake (the
    /// docs/performance.md, "Worker pools", has the measurement).
    /// </summary>
    private const int IdleYields = 16;

    private readonly object _gate = new();
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _items = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // One hand-off for all the requests this thread runs, one at a time; a stuck one keeps it, and the
    // worker that replaces this thread has its own.
    private readonly WorkerRequest _request = new();
    private readonly WorkerSynchronizationContext _context;
    private readonly Thread _thread;
    private readonly ILogger _logger;
    private bool _stopping;
    private bool _done;
    private int _pending;

    public WorkerThread(string name, ILogger logger)
    {
        Name = name;
        _logger = logger;
        _context = new WorkerSynchronizationContext(this);
        // Background: a worker stuck in app code must not keep the process alive after the host stops.
        _thread = new Thread(static s => ((WorkerThread)s!).Run()) { Name = name, IsBackground = true };
        // UnsafeStart: the thread must not keep the ExecutionContext (async locals, Activity) of whichever
        // request happened to start it; each request brings its own.
        _thread.UnsafeStart(this);
    }

    /// <summary>The thread's name, e.g. <c>ProductionServing worker slow#3</c>.</summary>
    public string Name { get; }

    /// <summary>Completes when the thread has ended.</summary>
    public Task Exited => _exited.Task;

    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>
    /// Starts <paramref name="next"/> for <paramref name="context"/> on this thread; the task ends with the
    /// app's. Await it exactly once, and before this worker is handed its next request.
    /// </summary>
    public ValueTask Start(Microsoft.AspNetCore.Http.HttpContext context, Microsoft.AspNetCore.Http.RequestDelegate next)
    {
        var app = _request.Prepare(context, next);
        Post(WorkerRequest.Run, _request);
        return app;
    }

    /// <summary>Queues a callback; once the thread has ended, it runs on the thread pool instead, so nothing is lost.</summary>
    public void Post(SendOrPostCallback callback, object? state)
    {
        lock (_gate)
        {
            if (!_done)
            {
                _items.Enqueue((callback, state));
                Volatile.Write(ref _pending, _items.Count);
                Monitor.Pulse(_gate);
                return;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(static item => item.Callback(item.State), (Callback: callback, State: state), preferLocal: false);
    }

    /// <summary>Ends the thread once its queue is empty.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>Gives up on the worker (a replacement takes its place): it ends when its current work returns.</summary>
    public void Abandon() => Stop();

    private void Run()
    {
        // Started without anyone's ExecutionContext (UnsafeStart): this is the empty one.
        var empty = ExecutionContext.Capture()!;
        SynchronizationContext.SetSynchronizationContext(_context);
        while (true)
        {
            for (var spin = 0; spin < IdleYields && Volatile.Read(ref _pending) == 0; spin++)
            {
                Thread.Yield();
            }

            (SendOrPostCallback Callback, object? State) item;
            lock (_gate)
            {
                while (_items.Count == 0)
                {
                    if (_stopping)
                    {
                        _done = true;
                        _exited.TrySetResult();
                        return;
                    }

                    Monitor.Wait(_gate);
                }

                item = _items.Dequeue();
                Volatile.Write(ref _pending, _items.Count);
            }

            try
            {
                // Again for each item: app code may have changed the thread's context.
                SynchronizationContext.SetSynchronizationContext(_context);
                item.Callback(item.State);
            }
            catch (Exception ex)
            {
                // What escapes here is app code's (an async void method, a posted callback); a worker never
                // dies of it. A request's own exceptions reach the pipeline through WorkerRequest instead.
                PoolLog.WorkerCallbackFailed(_logger, Name, ex);
            }

            // What an item leaves on the thread must not reach the next one: an async local that app code set
            // outside an ExecutionContext.Run (a callback it posted itself, a request whose caller suppressed
            // the flow) or a flow it suppressed and never restored. Capture allocates nothing.
            if (ExecutionContext.Capture() != empty)
            {
                ExecutionContext.Restore(empty);
            }
        }
    }
}
