namespace ProductionServing.Pools;

/// <summary>
/// Takes the worker's <see cref="SynchronizationContext"/> off the thread for the span of a call into
/// the server (<c>using var _ = new NoSynchronizationContext();</c>), so that what the server awaits
/// inside resumes on the thread pool, never queued behind a worker that may be blocked waiting for it.
/// </summary>
internal readonly ref struct NoSynchronizationContext
{
    private readonly SynchronizationContext? _saved;

    public NoSynchronizationContext()
    {
        _saved = SynchronizationContext.Current;
        if (_saved is not null)
        {
            SynchronizationContext.SetSynchronizationContext(null);
        }
    }

    public void Dispose()
    {
        if (_saved is not null)
        {
            SynchronizationContext.SetSynchronizationContext(_saved);
        }
    }
}
