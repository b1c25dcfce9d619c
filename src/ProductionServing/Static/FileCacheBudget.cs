namespace ProductionServing.Static;

/// <summary>
/// The bytes of file contents held in memory by every static location together, bounded by
/// <see cref="FileCacheOptions.SizeLimit"/>. One per application; survives configuration reloads.
/// </summary>
internal sealed class FileCacheBudget
{
    private long _used;
    private long _entries;

    public long Limit { get; set; } = new FileCacheOptions().SizeLimit;

    public long Used => Volatile.Read(ref _used);

    public bool TryReserve(long bytes)
    {
        var used = Volatile.Read(ref _used);
        while (true)
        {
            if (used + bytes > Limit)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _used, used + bytes, used);
            if (seen == used)
            {
                return true;
            }

            used = seen;
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);

    /// <summary>Files known to the static locations' lookups, cached content or not.</summary>
    public long Entries => Volatile.Read(ref _entries);

    /// <summary>A lookup remembered a file (<paramref name="delta"/> 1) or forgot one (-1).</summary>
    public void CountEntry(int delta) => Interlocked.Add(ref _entries, delta);

    /// <summary>For the observable instrument: <see cref="Used"/>.</summary>
    public long GetUsed() => Used;

    /// <summary>For the observable instrument: <see cref="Entries"/>.</summary>
    public long GetEntries() => Entries;
}
