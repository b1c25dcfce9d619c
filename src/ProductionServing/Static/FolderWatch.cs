using Microsoft.Extensions.Logging;

namespace ProductionServing.Static;

/// <summary>
/// Tells when a static location's cached files may be served without asking the disk: a
/// <see cref="Generation"/> that moves on whenever anything changes under the location's folder
/// (inotify, through <see cref="FileSystemWatcher"/>), when the folder or one of its parents is
/// renamed or replaced (a deployment's symlink swap), and at least every <see cref="TrustPeriod"/>.
/// A cached file checked against the disk (one <c>statx</c>) at the current generation is still
/// current; a request that finds the generation moved checks again.
/// </summary>
/// <remarks>
/// <para>
/// The period bounds what inotify cannot see: files on network file systems changed by another host,
/// a file changed through a hard link from outside the folder, writes through a shared memory map.
/// Such a change is served stale for at most a second (nginx's <c>open_file_cache_valid</c>: 60 s).
/// Any other change is noticed as soon as the watcher has read its event, typically microseconds
/// after the write.
/// </para>
/// <para>
/// Only on Linux, where inotify reports a change as it is made. Elsewhere, while the folder does not
/// exist or is a file (an <c>Alias</c> to one file), and once the watcher has failed (the inotify
/// watch limit, say), <see cref="Generation"/> is 0: every request checks the disk. A folder that
/// appears later (or again, after a deployment replaced it) is watched from the next tick.
/// </para>
/// </remarks>
internal sealed class FolderWatch : IDisposable
{
    /// <summary>The longest a cached file is served without a check against the disk.</summary>
    public static readonly TimeSpan TrustPeriod = TimeSpan.FromSeconds(1);

    private const NotifyFilters Changes = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite
        | NotifyFilters.Size | NotifyFilters.Attributes | NotifyFilters.CreationTime | NotifyFilters.Security;

    private readonly string _folder;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly ITimer? _timer;
    private long _counter;
    private long _generation;
    private bool _reliable;
    private bool _missing;
    private bool _disposed;

    private FolderWatch(string folder, TimeProvider time, ILogger logger)
    {
        _folder = folder;
        _logger = logger;
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        lock (_lock)
        {
            Rewatch();
        }

        _timer = time.CreateTimer(static state => ((FolderWatch)state!).Tick(), this, TrustPeriod, TrustPeriod);
    }

    /// <summary>
    /// The current generation: positive while changes are watched, 0 when they are not (then every
    /// request checks the disk). Never repeats a value.
    /// </summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Starts watching <paramref name="folder"/> (a full path).</summary>
    public static FolderWatch Start(string folder, TimeProvider time, ILogger logger) => new(folder, time, logger);

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
            StopWatching();
            Volatile.Write(ref _generation, 0);
        }
    }

    /// <summary>Watches whatever the folder's path names now, and moves the generation on.</summary>
    private void Rewatch()
    {
        StopWatching();
        _missing = !Directory.Exists(_folder);
        _reliable = !_missing && Watch();
        Advance();
    }

    /// <summary>Watches the folder's tree, and each of its parents for the name leading to it. False when that failed.</summary>
    private bool Watch()
    {
        try
        {
            var folder = new FileSystemWatcher(_folder) { IncludeSubdirectories = true, NotifyFilter = Changes };
            folder.Changed += OnChange;
            folder.Created += OnChange;
            folder.Deleted += OnChange;
            folder.Renamed += OnChange;
            folder.Error += OnError;
            _watchers.Add(folder);

            // A parent's change can put another folder under the configured path (a symlink or a
            // folder swapped in by a deployment): the watch on the old folder would then see nothing.
            for (var path = _folder; Path.GetDirectoryName(path) is { } parent; path = parent)
            {
                var ancestor = new FileSystemWatcher(parent) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName, Filter = Path.GetFileName(path) };
                ancestor.Created += OnParentChange;
                ancestor.Deleted += OnParentChange;
                ancestor.Renamed += OnParentChange;
                ancestor.Error += OnError;
                _watchers.Add(ancestor);
            }

            foreach (var watcher in _watchers)
            {
                watcher.EnableRaisingEvents = true;
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            StaticLog.FolderUnwatched(_logger, _folder, ex);
            StopWatching();
            return false;
        }
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

    private void Tick()
    {
        lock (_lock)
        {
            if (_missing && !_disposed)
            {
                Rewatch();
            }

            Advance();
        }
    }

    private void OnError(object sender, ErrorEventArgs e)
    {
        lock (_lock)
        {
            // An overflowed queue lost events (the watcher restarts itself); anything else, such as the
            // inotify watch limit reached for a new subfolder, leaves part of the tree unwatched.
            if (e.GetException() is not InternalBufferOverflowException && _reliable && _watchers.Contains((FileSystemWatcher)sender))
            {
                StaticLog.FolderUnwatched(_logger, _folder, e.GetException());
                _reliable = false;
            }

            Advance();
        }
    }

    private void Advance()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                Volatile.Write(ref _generation, _reliable ? ++_counter : 0);
            }
        }
    }
}
