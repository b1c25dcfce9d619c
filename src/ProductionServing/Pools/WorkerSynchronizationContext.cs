namespace ProductionServing.Pools;

/// <summary>
/// Set on a dedicated worker thread while it runs app code, so that the continuation of every
/// <c>await</c> (which captures <see cref="SynchronizationContext.Current"/>) comes back to the same
/// thread: blocking code after an <c>await</c> still blocks only the pool's own threads.
/// </summary>
/// <remarks>
/// As with classic ASP.NET's context, blocking on an async method that awaits without
/// <c>ConfigureAwait(false)</c> (<c>MyAsync().Result</c>) waits for a continuation queued behind itself;
/// <c>RequestTimeout</c> then replaces the worker. Blocking on library calls (which use
/// <c>ConfigureAwait(false)</c>) is fine.
/// </remarks>
internal sealed class WorkerSynchronizationContext(WorkerThread worker) : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) => worker.Post(d, state);

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (worker.IsCurrentThread)
        {
            d(state);
            return;
        }

        using var done = new ManualResetEventSlim();
        var call = new SendCall(d, state, done);
        worker.Post(SendCall.Run, call);
        done.Wait();
        call.Failure?.Throw();
    }

    public override SynchronizationContext CreateCopy() => this;

    private sealed class SendCall(SendOrPostCallback callback, object? state, ManualResetEventSlim done)
    {
        public static readonly SendOrPostCallback Run = static s => ((SendCall)s!).Invoke();

        public System.Runtime.ExceptionServices.ExceptionDispatchInfo? Failure { get; private set; }

        private void Invoke()
        {
            try
            {
                callback(state);
            }
            catch (Exception ex)
            {
                Failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                done.Set();
            }
        }
    }
}
