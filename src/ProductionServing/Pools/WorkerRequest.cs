using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Pools;

/// <summary>
/// A dedicated worker's hand-off of one request at a time, owned by the worker and reused for each of
/// its requests: the app starts on the worker under the request's <see cref="ExecutionContext"/> (async
/// locals such as <c>IHttpContextAccessor</c> and <c>Activity.Current</c> flow), and the
/// <see cref="ValueTask"/> that <see cref="Prepare"/> returns ends as the app's task ends, with its exception.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Reuse is safe because the worker runs one request at a time: the pool hands the worker its next
/// request only after it has read this one's outcome (the release follows the await), and never again
/// once it has given up on the request (the stuck worker is replaced and ends when the app returns; its
/// replacement has a hand-off of its own, which the stuck app's late end cannot reach).</item>
/// <item>Reading the outcome resets the hand-off at once, as a pooled <see cref="IValueTaskSource"/> does
/// (<see href="https://learn.microsoft.com/dotnet/api/system.threading.tasks.valuetask#remarks">ValueTask:
/// read a result once</see>): the task's token goes stale, so a second or late read of an earlier request
/// throws instead of reading a later one, and a request handed over before the last one was read is refused.</item>
/// <item>App code never sees this object. What it does see, the bodies and the form, is made per request
/// (<see cref="ContextFreeResponseBody"/>, <see cref="ContextFreeRequestBody"/>), since app code may keep
/// it past its request.</item>
/// <item>The request (its context, its async locals) is let go before the task ends, and the pool's
/// continuation and the app's exception when the outcome is read, so an idle worker keeps nothing of its
/// last request alive.</item>
/// <item>The pool's continuation (release the slot, let the server finish the response, maybe read the
/// next request on the connection) runs on the thread pool, never on the worker: that is server and
/// pipeline code, which must not occupy a worker the pool already counts as idle.</item>
/// </list>
/// </remarks>
internal sealed class WorkerRequest : IValueTaskSource
{
    /// <summary>Runs the prepared request; posted to the worker's queue.</summary>
    public static readonly SendOrPostCallback Run = static s => ((WorkerRequest)s!).Begin();

    private static readonly ContextCallback InvokeCallback = static s => ((WorkerRequest)s!).Invoke();

    private readonly Action _appEnded;
    private ManualResetValueTaskSourceCore<bool> _outcome;
    private HttpContext? _context;
    private RequestDelegate? _next;
    private ExecutionContext? _executionContext;
    private ContextFreeResponseBody? _response;
    private ContextFreeRequestBody? _request;
    private Task? _app;
    private int _busy;

    public WorkerRequest()
    {
        _outcome.RunContinuationsAsynchronously = true;
        _appEnded = AppEnded;
    }

    /// <summary>
    /// Takes the next request, on the caller's thread: captures its <see cref="ExecutionContext"/> and
    /// installs the context-free bodies. Returns the task to await, exactly once, before the worker may
    /// take another. Throws, changing nothing, when the last request's outcome has not been read.
    /// </summary>
    public ValueTask Prepare(HttpContext context, RequestDelegate next)
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("A dedicated worker was handed a request while it still runs one.");
        }

        try
        {
            _response = ContextFreeResponseBody.Install(context);
            _request = ContextFreeRequestBody.IsPossible(context) ? new ContextFreeRequestBody(context) : null;
        }
        catch
        {
            _response?.Remove(context.Features);
            _response = null;
            Volatile.Write(ref _busy, 0);
            throw;
        }

        _context = context;
        _next = next;
        _executionContext = ExecutionContext.Capture();
        return new ValueTask(this, _outcome.Version);
    }

    public ValueTaskSourceStatus GetStatus(short token) => _outcome.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _outcome.OnCompleted(continuation, state, token, flags);

    public void GetResult(short token)
    {
        // GetStatus throws for a stale token. Neither a stale read nor one before the end may reset the
        // hand-off: both are misuse, and the request they would free is still running.
        if (_outcome.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            throw new InvalidOperationException("A dedicated worker's request was read before it ended.");
        }

        try
        {
            _outcome.GetResult(token);
        }
        finally
        {
            _outcome.Reset();
            Volatile.Write(ref _busy, 0);
        }
    }

    private void Begin()
    {
        // Without one (the caller suppressed the flow), the app runs in the worker's own empty context,
        // which the worker restores after every item (WorkerThread.Run).
        if (_executionContext is { } executionContext)
        {
            ExecutionContext.Run(executionContext, InvokeCallback, this);
        }
        else
        {
            Invoke();
        }
    }

    private void Invoke()
    {
        Task app;
        try
        {
            app = _next!(_context!);
        }
        catch (Exception ex)
        {
            End(null, ex);
            return;
        }

        if (app.IsCompleted)
        {
            End(app, null);
            return;
        }

        // No context and no ExecutionContext to come back to: ending is bookkeeping, wherever the app ends.
        // Unlike ContinueWith, an awaiter's continuation allocates nothing.
        _app = app;
        app.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_appEnded);
    }

    private void AppEnded()
    {
        var app = _app!;
        _app = null;
        End(app, null);
    }

    private void End(Task? app, Exception? thrown)
    {
        var context = _context!;
        var response = _response!;
        var request = _request;
        _context = null;
        _next = null;
        _executionContext = null;
        _response = null;
        _request = null;

        Exception? removing = null;
        try
        {
            request?.Remove();
            response.Remove(context.Features);
        }
        catch (Exception ex)
        {
            // Not expected: the request stays open until this ends. Whatever it is, it must neither escape
            // into the thread pool (AppEnded runs as the app's continuation) nor hide the app's own outcome.
            removing = ex;
        }

        thrown ??= app is null || app.IsCompletedSuccessfully ? removing
            : app.IsFaulted ? app.Exception!.InnerExceptions[0] // what awaiting the app would throw
            : Canceled(app);

        // Nothing of this object is touched past this point: the worker may take its next request at once.
        if (thrown is null)
        {
            _outcome.SetResult(true);
        }
        else
        {
            _outcome.SetException(thrown);
        }
    }

    /// <summary>The canceled app's <see cref="OperationCanceledException"/>, token and all, as awaiting it throws it.</summary>
    private static Exception Canceled(Task app)
    {
        try
        {
            app.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException ex)
        {
            return ex;
        }

        return new TaskCanceledException(app); // not reached: a canceled task always throws
    }
}
