namespace ProductionServing.Static;

/// <summary>
/// The bytes of file contents held in memory by every static location together, bounded by
/// <see cref="FileCacheOptions.SizeLimit"/>. One per application; survives configuration reloads.
/// </summary>
internal sealed class FileCacheBudget
{
    private long _used;

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
}
