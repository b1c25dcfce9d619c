using Microsoft.AspNetCore.Http;

namespace ProductionServing.Pools;

/// <summary>Running an admitted request's app: directly or on a dedicated worker, under the pool's <c>RequestTimeout</c>.</summary>
internal sealed partial class WorkerPool
{
    private Task RunAsync(HttpContext context, RequestDelegate next, WorkerThread? worker)
    {
        if (_settings.RequestTimeout is { } timeout)
        {
            return RunWithDeadlineAsync(context, next, worker, timeout);
        }

        var app = Start(context, next, worker);
        if (app.IsCompletedSuccessfully)
        {
            app.GetAwaiter().GetResult(); // consumes a worker's hand-off before the worker is released
            Release(worker);
            return Task.CompletedTask;
        }

        return ReleaseWhenDoneAsync(app, worker);
    }

    private async Task ReleaseWhenDoneAsync(ValueTask app, WorkerThread? worker)
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
        var deadline = new RequestDeadline(this, context, worker, timeout, _time);
        try
        {
            // The deadline watches a Task (from the timer's thread); AsTask consumes a worker's hand-off
            // as the app ends, before the worker can be released.
            var app = Start(context, next, worker).AsTask();
            deadline.Watch(app);
            if (!app.IsCompleted)
            {
                await Task.WhenAny(app, deadline.GivenUp);
            }

            if (!deadline.TryFinish())
            {
                // Given up on: answered and (unless too many are stuck) its slot freed. The request ends with
                // the app, so that the server does not recycle the HttpContext the stuck code still holds.
                await app.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await deadline.GivenUp; // the app may end while the pool gives up: wait until it is done with the request
                StuckEnded(deadline.SlotFreed, worker);
                return;
            }

            try
            {
                await app;
            }
            catch (OperationCanceledException) when (deadline.TimedOut)
            {
                // The app honoured the cancellation: answer for it (ASP.NET Core's request timeouts do the same).
                var outcome = deadline.Answer();
                PoolLog.RequestTimedOut(_logger, Name, timeout, outcome);
                _metrics.PoolRequestTimedOut(Name, outcome);
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
    /// A request's app still runs past its timeout and grace (the deadline answered its client): keep the
    /// pool's capacity by freeing its slot and, on a dedicated pool, starting a fresh worker in place of the
    /// stuck one, which ends when it returns. At most <c>Limit</c> stuck requests get this, so code that
    /// always hangs cannot pile up threads without bound; past that the slot stays taken until the app ends.
    /// Returns whether the slot was freed.
    /// </summary>
    public bool GiveUp(WorkerThread? worker, TimeSpan timeout, TimeoutOutcome outcome)
    {
        string? replacement = null;
        var replaced = false;
        int replacements;
        bool freed;
        lock (_lock)
        {
            freed = _stuck < _settings.Limit;
            if (freed)
            {
                _stuck++;
                if (worker is not null)
                {
                    replaced = _workers?.Replace(worker, out replacement) ?? false;
                    worker.Abandon();
                }

                _running--;
                Pump();
                CheckIdle();
            }

            replacements = _workers?.Replacements ?? 0;
        }

        _metrics.PoolRequestTimedOut(Name, outcome);
        if (replaced)
        {
            _metrics.PoolWorkerReplaced(Name);
        }

        if (!freed)
        {
            PoolLog.TooManyStuck(_logger, Name, timeout, outcome, _settings.Limit);
        }
        else if (worker is null)
        {
            PoolLog.RequestAbandoned(_logger, Name, timeout, outcome);
        }
        else
        {
            PoolLog.WorkerReplaced(_logger, Name, worker.Name, timeout, outcome, replacement ?? "none (the pool no longer has these threads)", replacements);
        }

        return freed;
    }

    /// <summary>A given-up request's app has finally ended.</summary>
    private void StuckEnded(bool slotFreed, WorkerThread? worker)
    {
        if (!slotFreed)
        {
            Release(worker);
            return;
        }

        lock (_lock)
        {
            _stuck--;
        }
    }

    private static ValueTask Start(HttpContext context, RequestDelegate next, WorkerThread? worker)
    {
        try
        {
            // A worker that cannot take the request (installing its bodies threw) frees itself first: the
            // caller releases the slot and the worker as for any failed app.
            return worker is not null ? worker.Start(context, next) : new ValueTask(next(context));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }
}
