namespace ProductionServing.Static;

/// <summary>
/// A request path found to name a folder inside the root and, once its index file was looked for,
/// which one that is (or that there is none). Immutable: a decision taken again is a new entry.
/// </summary>
/// <remarks>
/// Trusted by the rule of a cached file held in memory (<see cref="FileEntry.IsCurrent(FolderWatch)"/>):
/// while the folder's watch has seen no change since the decision and for less than
/// <see cref="FolderWatch.TrustPeriod"/>. Otherwise the decision is taken again from the disk, as if
/// nothing were cached, where a file gets a single <c>statx</c>. A folder's own stamp would not do:
/// its modification time, which moves when a name is added or removed, comes from the kernel's coarse
/// clock (one tick, several milliseconds), so two changes within one tick of a check would look like
/// none; and whether the folder is inside the root depends on every link on its path, not on the folder.
/// </remarks>
internal sealed class FolderEntry
{
    /// <param name="checkedGeneration">The <see cref="FolderWatch.Generation"/> read before the folder was checked on disk.</param>
    /// <param name="checkedAt">The <see cref="FolderWatch.Timestamp"/> read with it.</param>
    /// <param name="indexNames">The index names looked for, or null when they were not looked for.</param>
    /// <param name="indexPath">The request path of the index file found; null when none was (or none looked for).</param>
    public FolderEntry(long checkedGeneration, long checkedAt, string[]? indexNames, string? indexPath)
    {
        CheckedGeneration = checkedGeneration;
        CheckedAt = checkedAt;
        IndexNames = indexNames;
        IndexPath = indexPath;
    }

    /// <summary>The <see cref="FolderWatch.Generation"/> at which the folder was checked (never 0).</summary>
    public long CheckedGeneration { get; }

    /// <summary>When the folder was checked (<see cref="FolderWatch.Timestamp"/>).</summary>
    public long CheckedAt { get; }

    /// <summary>The index names <see cref="IndexPath"/> answers for; null: the index was not looked for yet.</summary>
    public string[]? IndexNames { get; }

    /// <summary>The request path of the folder's index file (<c>/docs/index.html</c>, built once); null: none.</summary>
    public string? IndexPath { get; }

    /// <summary>Whether the decision still holds without looking at the disk (no system call).</summary>
    public bool IsTrusted(FolderWatch watch)
    {
        var generation = watch.Generation;
        return generation != 0 && generation == CheckedGeneration && watch.Timestamp() - CheckedAt < watch.TrustTicks;
    }

    /// <summary>
    /// This decision with the index found after it. It keeps the folder's generation and time: the
    /// index was looked for after the folder was checked, so while nothing has changed since that
    /// check, nothing has changed since the index was looked for either.
    /// </summary>
    public FolderEntry WithIndex(string[] indexNames, string? indexPath) => new(CheckedGeneration, CheckedAt, indexNames, indexPath);
}
