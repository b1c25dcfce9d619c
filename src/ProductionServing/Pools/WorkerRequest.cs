using Microsoft.AspNetCore.Http;

namespace ProductionServing.Pools;

/// <summary>
/// A request handed to a dedicated worker: the app starts on the worker under the request's
/// <see cref="ExecutionContext"/> (async locals such as <c>IHttpContextAccessor</c> and
/// <c>Activity.Current</c> flow), and <see cref="TaskCompletionSource.Task"/> ends as the app's task ends,
/// with its exception.
/// </summary>
/// <remarks>
/// The pool's continuation (release the slot, let the server finish the response, maybe read the next
/// request on the connection) runs on the thread pool, never on the worker: that is server and pipeline
/// code, which must not occupy a worker the pool already counts as idle.
/// </remarks>
internal sealed class WorkerRequest(HttpContext context, RequestDelegate next)
    : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public static readonly SendOrPostCallback Start = static s => ((WorkerRequest)s!).Begin();

    private static readonly ContextCallback InvokeCallback = static s => ((WorkerRequest)s!).Invoke();
    private static readonly Action<Task, object?> CompleteCallback = static (task, s) => ((WorkerRequest)s!).Complete(task);

    private readonly ExecutionContext? _executionContext = ExecutionContext.Capture();
    private readonly ContextFreeBody _body = new(context);

    private void Begin()
    {
        if (_executionContext is null)
        {
            Invoke();
        }
        else
        {
            ExecutionContext.Run(_executionContext, InvokeCallback, this);
        }
    }

    private void Invoke()
    {
        Task app;
        try
        {
            app = next(context);
        }
        catch (Exception ex)
        {
            Complete(Task.FromException(ex));
            return;
        }

        if (app.IsCompleted)
        {
            Complete(app);
        }
        else
        {
            app.ContinueWith(CompleteCallback, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void Complete(Task app)
    {
        try
        {
            _body.Remove();
        }
        finally
        {
            SetOutcome(app);
        }
    }

    private void SetOutcome(Task app)
    {
        if (app.IsFaulted)
        {
            TrySetException(app.Exception!.InnerExceptions);
        }
        else if (app.IsCanceled)
        {
            // Awaiting the canceled app task rethrows its OperationCanceledException, token and all.
            try
            {
                app.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException ex)
            {
                TrySetException(ex);
            }
        }
        else
        {
            TrySetResult();
        }
    }
}
