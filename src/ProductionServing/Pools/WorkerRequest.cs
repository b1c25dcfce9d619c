using Microsoft.AspNetCore.Http;

namespace ProductionServing.Pools;

/// <summary>
/// A request handed to a dedicated worker: the app starts on the worker under the request's
/// <see cref="ExecutionContext"/> (async locals such as <c>IHttpContextAccessor</c> and
/// <c>Activity.Current</c> flow), and <see cref="TaskCompletionSource.Task"/> ends as the app's task ends,
/// with its exception.
/// </summary>
/// <remarks>
/// The pool's continuation (release the slot, let Kestrel finish the response) runs inline where the app
/// ended, usually on the worker, rather than after a hop to the thread pool: on a busy core that hop is a
/// second context switch per request. The worker's <see cref="SynchronizationContext"/> is taken off the
/// thread meanwhile, so what that continuation awaits resumes on the thread pool, never on the worker.
/// </remarks>
internal sealed class WorkerRequest(HttpContext context, RequestDelegate next) : TaskCompletionSource
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
        var worker = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            SetOutcome(app);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(worker);
        }
    }

    private void SetOutcome(Task app)
    {
        _body.Remove();
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
