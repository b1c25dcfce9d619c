using Microsoft.Extensions.Logging;

namespace ProductionServing.Static;

/// <summary>
/// Tells when a static location's cached files may be served without asking the disk: a
/// <see cref="Generation"/> that moves on whenever anything changes under the location's folder
/// (inotify, through <see cref="FileSystemWatcher"/>) or when the folder or one of its parents is
/// renamed or replaced (a deployment's symlink swap). A cached file checked against the disk (one
/// <c>statx</c>) at the current generation, less than <see cref="TrustPeriod"/> ago, is still current
/// (<see cref="FileEntry.IsCurrent(FolderWatch)"/>).
/// </summary>
/// <remarks>
/// <para>
/// The period bounds what inotify cannot see, and events delayed by a starved thread pool (they are
/// raised there): files on network file systems changed by another host, a file changed through a
/// hard link from outside the folder, writes through a shared memory map. Such a change is served
/// stale for at most a second (nginx's <c>open_file_cache_valid</c>: 60 s). Any other change is
/// noticed as soon as the watcher has read its event, typically microseconds after the write.
/// </para>
/// <para>
/// Only on Linux, where inotify reports a change as it is made. Elsewhere, while the folder does not
/// exist or is a file (an <c>Alias</c> to one file), when it has more than <see cref="MaxFolders"/>
/// subfolders, and after the watcher failed (the inotify watch limit, say), <see cref="Generation"/>
/// is 0: every request checks the disk. Watching is tried again each tick while the folder is
/// missing, and after a failure with a back-off up to a minute.
/// </para>
/// </remarks>
internal sealed class FolderWatch : IDisposable
{
    /// <summary>The longest a cached file is served without a check against the disk.</summary>
    public static readonly TimeSpan TrustPeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A tree with more subfolders is not watched (one inotify watch each; older kernels allow a user
    /// 8,192 in all, shared with every other watcher of the same user).
    /// </summary>
    public const int MaxFolders = 4096;

    private const int MaxRetryTicks = 60;

    private const NotifyFilters Changes = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite
        | NotifyFilters.Size | NotifyFilters.Attributes | NotifyFilters.CreationTime | NotifyFilters.Security;

    private static readonly EnumerationOptions AllFolders = new()
    {
        RecurseSubdirectories = true,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.ReparsePoint,
    };

    private readonly string _folder;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly ITimer? _timer;
    private long _counter;
    private long _generation;
    private bool _missing;
    private bool _disposed;
    private bool _warned;
    private int _retryTicks = 1;
    private int _ticksToRetry;
    private int _healthyTicks;

    private FolderWatch(string folder, TimeProvider time, ILogger logger)
    {
        _folder = folder;
        _time = time;
        _logger = logger;
        TrustTicks = (long)(TrustPeriod.TotalSeconds * time.TimestampFrequency);
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // The watchers' event loops and the timer must not keep the context of whoever compiled the
        // configuration (a reload triggered inside a request would keep that request alive).
        using (ExecutionContext.SuppressFlow())
        {
            lock (_lock)
            {
                Rewatch();
            }

            _timer = time.CreateTimer(static state => ((FolderWatch)state!).Tick(), this, TrustPeriod, TrustPeriod);
        }
    }

    /// <summary>
    /// The current generation: positive while changes are watched, 0 when they are not (then every
    /// request checks the disk). Never repeats a value.
    /// </summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Whether the folder was missing when last looked for (then it is looked for each tick).</summary>
    public bool IsMissing => Volatile.Read(ref _missing);

    /// <summary><see cref="TrustPeriod"/> in <see cref="Timestamp"/> units.</summary>
    public long TrustTicks { get; }

    /// <summary>Starts watching <paramref name="folder"/> (a full path).</summary>
    public static FolderWatch Start(string folder, TimeProvider time, ILogger logger) => new(folder, time, logger);

    /// <summary>Now, for <see cref="TrustTicks"/> (the clock's timestamp: no system call).</summary>
    public long Timestamp() => _time.GetTimestamp();

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Volatile.Write(ref _generation, 0);
            _timer?.Dispose();
            StopWatching();
        }
    }

    /// <summary>Watches whatever the folder's path names now; until that is done, nothing is trusted.</summary>
    private void Rewatch()
    {
        Volatile.Write(ref _generation, 0);
        StopWatching();
        Volatile.Write(ref _missing, !Directory.Exists(_folder));
        if (_missing)
        {
            _ticksToRetry = 1; // until it is back: not a failure, no back-off, no warning
            return;
        }

        if (Watch())
        {
            _healthyTicks = 0;
            Volatile.Write(ref _generation, ++_counter);
        }
    }

    /// <summary>Watches the folder's tree, and the parents of its path and of its real path. False when the tree cannot be watched.</summary>
    private bool Watch()
    {
        try
        {
            var real = RealPath.Resolve(_folder);
            if (!HasAtMostFolders(_folder, MaxFolders))
            {
                throw new IOException($"more than {MaxFolders} subfolders to watch");
            }

            Enable(new FileSystemWatcher(_folder) { IncludeSubdirectories = true, NotifyFilter = Changes }, OnChange);

            // A parent's change can put another folder under the path (a symbolic link or a folder swapped
            // in by a deployment): the watch on the old folder would then see nothing. A parent that cannot
            // be watched (no read permission) leaves the swaps above it to the trust period.
            WatchParents(_folder);
            if (real is not null && real != _folder)
            {
                WatchParents(real);
            }

            // A swap while the watchers were being set up may have left the old folder watched.
            if (RealPath.Resolve(_folder) != real)
            {
                throw new IOException("the folder's path was re-pointed while it was being watched");
            }

            return true;
        }
        catch (Exception ex)
        {
            // Also on the timer's thread: nothing may escape.
            Failed(ex);
            return false;
        }
    }

    private void WatchParents(string path)
    {
        for (; Path.GetDirectoryName(path) is { } parent; path = parent)
        {
            try
            {
                Enable(new FileSystemWatcher(parent) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName, Filter = Path.GetFileName(path) },
                    OnParentChange);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    /// <summary>Routes the watcher's events to <paramref name="onChange"/> and its errors to <see cref="OnError"/>, and starts it.</summary>
    private void Enable(FileSystemWatcher watcher, FileSystemEventHandler onChange)
    {
        watcher.Changed += onChange;
        watcher.Created += onChange;
        watcher.Deleted += onChange;
        watcher.Renamed += onChange.Invoke;
        watcher.Error += OnError;
        _watchers.Add(watcher); // before starting it: a watcher that fails to start is disposed with the others
        watcher.EnableRaisingEvents = true;
    }

    /// <summary>Trusts nothing, gives the watches back, and tries again after a back-off (warning once per failing spell).</summary>
    private void Failed(Exception exception)
    {
        Volatile.Write(ref _generation, 0);
        StopWatching();
        if (!_warned)
        {
            _warned = true;
            StaticLog.FolderUnwatched(_logger, _folder, exception);
        }

        _ticksToRetry = _retryTicks;
        _retryTicks = Math.Min(_retryTicks * 2, MaxRetryTicks);
    }

    private static bool HasAtMostFolders(string folder, int limit)
    {
        var count = 0;
        foreach (var _ in Directory.EnumerateDirectories(folder, "*", AllFolders))
        {
            if (++count > limit)
            {
                return false;
            }
        }

        return true;
    }

    private void StopWatching()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _watchers.Clear();
    }

    private void OnChange(object sender, FileSystemEventArgs e) => Advance();

    /// <summary>Something changed, or events were lost: whatever was checked before is checked again.</summary>
    private void Advance()
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _generation) != 0)
            {
                Volatile.Write(ref _generation, ++_counter);
            }
        }
    }

    /// <summary>The folder or a parent was renamed, replaced or deleted: watch whatever the path names now.</summary>
    private void OnParentChange(object sender, FileSystemEventArgs e)
    {
        lock (_lock)
        {
            // Events still queued by a watcher replaced since are not about the current path.
            if (!_disposed && _watchers.Contains((FileSystemWatcher)sender))
            {
                Rewatch();
            }
        }
    }

    private void OnError(object sender, ErrorEventArgs e)
    {
        lock (_lock)
        {
            if (_disposed || !_watchers.Contains((FileSystemWatcher)sender))
            {
                return;
            }

            if (e.GetException() is InternalBufferOverflowException)
            {
                // Events were lost while the queue was full, and more may be until the watches are back:
                // trust nothing, and watch again from the next tick.
                Volatile.Write(ref _generation, 0);
                StopWatching();
                _ticksToRetry = 1;
                return;
            }

            // Part of the tree is unwatched (the inotify watch limit reached, no permission on a subfolder).
            Failed(e.GetException());
        }
    }

    private void Tick()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (Volatile.Read(ref _generation) != 0)
            {
                // Watching: once it has lasted as long as the current back-off, failures start afresh.
                if (++_healthyTicks >= _retryTicks)
                {
                    _retryTicks = 1;
                    _warned = false;
                }
            }
            else if (--_ticksToRetry <= 0)
            {
                Rewatch();
            }
        }
    }
}
