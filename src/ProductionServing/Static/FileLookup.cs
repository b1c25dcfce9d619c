using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using ProductionServing.Directives;

namespace ProductionServing.Static;

/// <summary>
/// Maps request paths of one static location to files (nginx <c>root</c> / <c>alias</c>), refuses
/// what must not be served, and keeps the hot-file cache of that location.
/// </summary>
/// <remarks>
/// A cached entry is served without asking the disk while its folder's <see cref="FolderWatch"/> has
/// seen no change since the entry was last checked (and for at most a second); otherwise it is
/// revalidated with one <c>statx</c>. A folder's decision (a folder inside the root, and which index
/// file it has, if any) is trusted by the same rule, and otherwise taken again from the disk (see
/// <see cref="FolderEntry"/>). Missing paths are not cached: the <c>stat</c> that would validate a
/// negative entry is the lookup itself, and caching them would let clients fill memory with random paths.
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
    private readonly CompressPolicy? _compress;

    /// <summary>
    /// Bounds the entries of one location: distinct request paths can name the same file (a folder link
    /// to ".", for example), so the number of paths is not bounded by the number of files.
    /// </summary>
    private const int MaxEntries = 65_536;

    private readonly ConcurrentDictionary<string, FileEntry> _entries = new(StringComparer.Ordinal);

    /// <summary>Request paths found to be folders (with or without their trailing slash), and their index files.</summary>
    private readonly ConcurrentDictionary<string, FolderEntry> _folders = new(StringComparer.Ordinal);

    /// <summary>One array per distinct index list its locations have given (<see cref="IndexNames"/>).</summary>
    private readonly List<string[]> _indexLists = [];
    private volatile bool _retired;
    private ResolvedRoot? _realRoot;

    /// <param name="root">The folder (Root) or the folder or file (Alias), as a full path.</param>
    /// <param name="aliasPrefix">For Alias, the location prefix the folder replaces; null for Root.</param>
    /// <param name="allowHidden">Whether dot-files and dot-folders are served.</param>
    /// <param name="precompressed">Whether <c>.br</c> and <c>.gz</c> sidecars are looked for.</param>
    /// <param name="defaultContentType">The type of files whose extension has none.</param>
    /// <param name="budget">The memory shared by every location's cached file contents.</param>
    /// <param name="maxCachedFileSize">Files up to this size have their contents cached.</param>
    /// <param name="compress">The locations' <c>Compress</c>: cached files it applies to get compressed copies; null for none.</param>
    /// <param name="time">The clock of the watch's period.</param>
    /// <param name="logger">For a folder that cannot be watched.</param>
    public FileLookup(string root, string? aliasPrefix, bool allowHidden, bool precompressed, string defaultContentType, FileCacheBudget budget,
        int maxCachedFileSize, CompressPolicy? compress, TimeProvider time, ILogger logger)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _aliasPrefix = aliasPrefix;
        _allowHidden = allowHidden;
        _precompressed = precompressed;
        _defaultContentType = defaultContentType;
        _budget = budget;
        _maxCachedFileSize = maxCachedFileSize;
        _compress = compress;
        Watch = FolderWatch.Start(_root, time, logger);
    }

    /// <summary>The folder (Root) or the folder or file (Alias), as a full path.</summary>
    public string Root => _root;

    /// <summary>Files whose entries are cached now (for the status page; counting takes the dictionary's locks, so never per request).</summary>
    public int CachedFiles => _entries.Count;

    /// <summary>Tells when cached entries need no check against the disk.</summary>
    public FolderWatch Watch { get; }

    /// <summary>
    /// The array to pass to <see cref="FindIndex"/> for a location's <c>Index</c>: the same one for the
    /// same list, so the index decisions of its folders (recognized by that array) outlive a reload
    /// that keeps this lookup, and are shared by locations that list the same names.
    /// </summary>
    public string[] IndexNames(IList<string> names)
    {
        lock (_indexLists)
        {
            foreach (var known in _indexLists)
            {
                if (SameNames(known, names))
                {
                    return known;
                }
            }

            string[] list = [.. names];
            _indexLists.Add(list);
            return list;
        }

        static bool SameNames(string[] known, IList<string> names)
        {
            if (known.Length != names.Count)
            {
                return false;
            }

            for (var i = 0; i < known.Length; i++)
            {
                if (!string.Equals(known[i], names[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }
    }

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
        if (_folders.TryGetValue(path, out var folder) && folder.IsTrusted(Watch))
        {
            return FileKind.Directory;
        }

        // Read before the disk is: a change after it moves the generation on, and the decision is taken again.
        var generation = Watch.Generation;
        var now = Watch.Timestamp();
        var kind = FindOnDisk(path, out entry);
        if (kind == FileKind.Directory && generation != 0)
        {
            Remember(path, folder, new FolderEntry(generation, now, indexNames: null, indexPath: null));
        }
        else if (folder is not null)
        {
            _folders.TryRemove(new KeyValuePair<string, FolderEntry>(path, folder));
        }

        return kind;
    }

    /// <summary>
    /// The index file of the folder <paramref name="path"/> (a request path ending in '/' that
    /// <see cref="Find"/> found to be a folder): the first of <paramref name="names"/> that is a file
    /// (nginx's <c>index</c>). False when none is.
    /// </summary>
    /// <param name="path">The folder's request path, ending in '/'.</param>
    /// <param name="names">The location's index names, in order, from <see cref="IndexNames"/>.</param>
    /// <param name="indexPath">The index file's request path (its cache key).</param>
    /// <param name="entry">The index file's current entry.</param>
    public bool FindIndex(string path, string[] names, [NotNullWhen(true)] out string? indexPath, [NotNullWhen(true)] out FileEntry? entry)
    {
        // Only a folder decision still trusted carries an index decision: the index is looked for after
        // the folder was checked, so it holds as long as nothing has changed since that check.
        var folder = _folders.TryGetValue(path, out var found) && found.IsTrusted(Watch) ? found : null;
        if (folder is not null && ReferenceEquals(folder.IndexNames, names))
        {
            indexPath = folder.IndexPath;
            if (indexPath is null)
            {
                entry = null;
                return false;
            }

            if (Find(indexPath, out entry) == FileKind.File && entry is not null)
            {
                return true;
            }

            // The index file went in a way the watch has not reported (yet): look for another.
        }

        foreach (var name in names)
        {
            indexPath = path + name;
            if (Find(indexPath, out entry) == FileKind.File && entry is not null)
            {
                RememberIndex(path, folder, names, indexPath);
                return true;
            }
        }

        RememberIndex(path, folder, names, null);
        indexPath = null;
        entry = null;
        return false;
    }

    /// <summary>What the path names on disk now; a file found is loaded and cached.</summary>
    private FileKind FindOnDisk(string path, out FileEntry? entry)
    {
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
            _budget.CountEntry(1);
            Evict(path, entry);
        }
        else
        {
            _budget.CountEntry(1);
        }

        return FileKind.File;
    }

    /// <summary>Keeps a folder decision in place of <paramref name="stale"/> (the entry no longer trusted, if any).</summary>
    private void Remember(string path, FolderEntry? stale, FolderEntry entry)
    {
        // A retired lookup's entries are never looked at again; they hold no memory of the budget.
        if (_retired)
        {
            return;
        }

        if (stale is not null)
        {
            _folders.TryUpdate(path, entry, stale);
        }
        else if (_folders.Count < MaxEntries)
        {
            _folders.TryAdd(path, entry);
        }
    }

    /// <summary>Adds the index found to the folder decision it was looked for under, if that is still the one kept.</summary>
    private void RememberIndex(string path, FolderEntry? folder, string[] names, string? indexPath)
    {
        // Without a trusted folder decision (not watched, or changed since Find) there is nothing to add
        // it to: the next request decides again.
        if (folder is not null && !_retired)
        {
            _folders.TryUpdate(path, folder.WithIndex(names, indexPath), folder);
        }
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

        _folders.Clear();
    }

    /// <summary>Forgets an entry that turned out to be stale (a changed, truncated or deleted file).</summary>
    public void Evict(string path, FileEntry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, FileEntry>(path, entry)))
        {
            _budget.CountEntry(-1);
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
        // Sidecars keep the original's Content-Type (docs/static.md, Precompressed); they are found when the file is
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
        else if (_compress is not null && entry.Bytes is not null && _compress.Compresses(contentType) && _compress.IsLongEnough(entry.Length))
        {
            entry = WithCompressedCopies(entry, entry.Bytes);
        }

        return entry;
    }

    /// <summary>
    /// Compresses a cached file once, for each coding it has no sidecar of (a sidecar wins: someone made it on
    /// purpose, typically at a higher level). A copy that is not smaller, or that the cache's budget cannot hold,
    /// is not kept: clients asking for that coding get the file itself.
    /// </summary>
    private FileEntry WithCompressedCopies(FileEntry file, byte[] bytes)
    {
        var brotli = file.Brotli ?? Keep(file, CompressedCopy.Brotli(bytes), "br");
        var gzip = file.Gzip ?? Keep(file, CompressedCopy.Gzip(bytes), "gzip");
        return brotli == file.Brotli && gzip == file.Gzip ? file : file.WithVariants(brotli, gzip);
    }

    private FileEntry? Keep(FileEntry file, byte[]? compressed, string encoding) =>
        compressed is not null && _budget.TryReserve(compressed.Length) ? FileEntry.CompressedCopyOf(file, compressed, encoding) : null;

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
