using System.Collections.Concurrent;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace ProductionServing.Static;

/// <summary>
/// Maps request paths of one static location to files (nginx <c>root</c> / <c>alias</c>), refuses
/// what must not be served, and keeps the hot-file cache of that location.
/// </summary>
/// <remarks>
/// A cached entry is served without asking the disk while its folder's <see cref="FolderWatch"/> has
/// seen no change since the entry was last checked (and for at most a second); otherwise it is
/// revalidated with one <c>statx</c>. Missing paths are not cached: the <c>stat</c> that would validate
/// a negative entry is the lookup itself, and caching them would let clients fill memory with random paths.
/// </remarks>
internal sealed class FileLookup
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    private readonly string _root;
    private readonly string? _aliasPrefix;
    private readonly bool _allowHidden;
    private readonly bool _precompressed;
    private readonly StringValues _defaultContentType;
    private readonly FileCacheBudget _budget;
    private readonly int _maxCachedFileSize;
    /// <summary>
    /// Bounds the entries of one location: distinct request paths can name the same file (a folder link
    /// to ".", for example), so the number of paths is not bounded by the number of files.
    /// </summary>
    private const int MaxEntries = 65_536;

    private readonly ConcurrentDictionary<string, FileEntry> _entries = new(StringComparer.Ordinal);
    private volatile bool _retired;
    private ResolvedRoot? _realRoot;

    /// <param name="root">The folder (Root) or the folder or file (Alias), as a full path.</param>
    /// <param name="aliasPrefix">For Alias, the location prefix the folder replaces; null for Root.</param>
    /// <param name="allowHidden">Whether dot-files and dot-folders are served.</param>
    /// <param name="precompressed">Whether <c>.br</c> and <c>.gz</c> sidecars are looked for.</param>
    /// <param name="defaultContentType">The type of files whose extension has none.</param>
    /// <param name="budget">The memory shared by every location's cached file contents.</param>
    /// <param name="maxCachedFileSize">Files up to this size have their contents cached.</param>
    /// <param name="time">The clock of the watch's period.</param>
    /// <param name="logger">For a folder that cannot be watched.</param>
    public FileLookup(string root, string? aliasPrefix, bool allowHidden, bool precompressed, string defaultContentType, FileCacheBudget budget,
        int maxCachedFileSize, TimeProvider time, ILogger logger)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _aliasPrefix = aliasPrefix;
        _allowHidden = allowHidden;
        _precompressed = precompressed;
        _defaultContentType = defaultContentType;
        _budget = budget;
        _maxCachedFileSize = maxCachedFileSize;
        Watch = FolderWatch.Start(_root, time, logger);
    }

    /// <summary>Tells when cached entries need no check against the disk.</summary>
    public FolderWatch Watch { get; }

    /// <summary>What <paramref name="path"/> (a normalized request path) names, with its current entry when it is a file.</summary>
    public FileKind Find(string path, out FileEntry? entry)
    {
        if (_entries.TryGetValue(path, out entry))
        {
            if (entry.IsCurrent(Watch))
            {
                return FileKind.File;
            }

            Evict(path, entry);
        }

        entry = null;
        if (!TryMap(path, out var physical))
        {
            return FileKind.Missing;
        }

        var info = new FileInfo(physical);
        if (!info.Exists)
        {
            return (int)info.Attributes != -1 && info.Attributes.HasFlag(FileAttributes.Directory) && IsInsideRoot(physical)
                ? FileKind.Directory
                : FileKind.Missing;
        }

        if (!IsInsideRoot(physical))
        {
            return FileKind.Missing;
        }

        entry = Load(physical);
        if (entry is null)
        {
            return FileKind.Missing;
        }

        if (_entries.Count >= MaxEntries || !_entries.TryAdd(path, entry))
        {
            // Full, or another request loaded it at the same time: serve ours this once, uncached.
            entry.Release(_budget);
        }
        else if (_retired)
        {
            // A request of a configuration that a reload has replaced: nothing would ever release it.
            Evict(path, entry);
        }

        return FileKind.File;
    }

    /// <summary>
    /// Stops watching, forgets every entry and gives its memory back to the shared budget, when a reload
    /// replaces this location or the host stops. Requests still holding an entry keep its bytes (they
    /// are only unaccounted) and check it against the disk.
    /// </summary>
    public void Clear()
    {
        _retired = true;
        Watch.Dispose();
        foreach (var (path, entry) in _entries)
        {
            Evict(path, entry);
        }
    }

    /// <summary>Forgets an entry that turned out to be stale (a changed, truncated or deleted file).</summary>
    public void Evict(string path, FileEntry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, FileEntry>(path, entry)))
        {
            entry.Release(_budget);
        }
    }

    /// <summary>The physical path for a request path; false for hidden names and anything outside the root.</summary>
    public bool TryMap(string path, out string physical)
    {
        // nginx alias: the location prefix is replaced by the folder; root: the whole path is appended.
        // A TryFiles path of an alias location that does not start with the prefix is taken as it is,
        // relative to the folder (nginx-tests http_try_files.t, "alias with nested prefix location").
        var relative = _aliasPrefix is not null && path.StartsWith(_aliasPrefix, StringComparison.Ordinal)
            ? path.AsSpan(_aliasPrefix.Length)
            : path.AsSpan();
        physical = "";
        if (!_allowHidden && HasHiddenSegment(relative))
        {
            return false;
        }

        // The path is already normalized (no "..", no "\"), but an alias without its trailing slash
        // ("/files" → "/srv/files/") turns "/files../x" into "../x": resolve and check, never trust.
        physical = Path.GetFullPath(Path.Join(_root, relative));
        return RealPath.IsUnder(physical, _root);
    }

    /// <summary>Whether any segment of the path starts with a dot (".git", ".env", ".hidden/data").</summary>
    private static bool HasHiddenSegment(ReadOnlySpan<char> path)
    {
        if (!path.IsEmpty && path[0] == '.')
        {
            return true;
        }

        return path.IndexOf("/.", StringComparison.Ordinal) >= 0;
    }

    /// <summary>Symbolic links are followed only while they stay inside the root.</summary>
    public bool IsInsideRoot(string physical)
    {
        // The root's own links are resolved once, not on every lookup, and again when a file seems to
        // be outside after something changed under the watch (a deployment may have pointed a link on
        // the root's path at another folder): a request for a link out cannot make every lookup resolve it.
        var real = RealPath.Resolve(physical);
        if (real is null)
        {
            return false;
        }

        var resolved = Volatile.Read(ref _realRoot);
        if (resolved?.Path is { } realRoot && RealPath.IsUnder(real, realRoot))
        {
            return true;
        }

        var generation = Watch.Generation;
        if (resolved is null || generation == 0 || generation != resolved.Generation)
        {
            resolved = new ResolvedRoot(RealPath.Resolve(_root), generation);
            Volatile.Write(ref _realRoot, resolved);
        }

        return resolved.Path is not null && RealPath.IsUnder(real, resolved.Path);
    }

    private FileEntry? Load(string physical)
    {
        // Sidecars keep the original's Content-Type (SPEC §3.2); they are found when the file is
        // loaded, so one added later is noticed when the file itself next changes.
        var contentType = ContentTypes.TryGetContentType(physical, out var type) ? new StringValues(type) : _defaultContentType;
        var brotli = _precompressed ? LoadSidecar(physical + ".br", contentType, "br") : null;
        var gzip = _precompressed ? LoadSidecar(physical + ".gz", contentType, "gzip") : null;
        var entry = LoadOne(physical, contentType, encoding: null, brotli, gzip);
        if (entry is null)
        {
            brotli?.Release(_budget);
            gzip?.Release(_budget);
        }

        return entry;
    }

    private FileEntry? LoadSidecar(string physical, StringValues contentType, string encoding) =>
        File.Exists(physical) && IsInsideRoot(physical) ? LoadOne(physical, contentType, encoding, null, null) : null;

    private FileEntry? LoadOne(string physical, StringValues contentType, string? encoding, FileEntry? brotli, FileEntry? gzip)
    {
        try
        {
            using var handle = File.OpenHandle(physical, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return FileEntry.FromHandle(physical, handle, contentType, encoding, _budget, _maxCachedFileSize, brotli, gzip);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Deleted, replaced by a folder or unreadable between the stat and the open.
            return null;
        }
    }

    /// <summary>The root with its links resolved, and the watch's generation when that was done.</summary>
    private sealed record ResolvedRoot(string? Path, long Generation);
}
