using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ProductionServing.Diagnostics;

/// <summary>
/// The access log's sinks across reloads: the file writer stays while <see cref="AccessLogOptions.Path"/>
/// names the same file (its queue, its open file, its drop count), a new path gets a new writer and the
/// old one finishes its queue and closes; on host shutdown the writer is drained and the file flushed and
/// closed, after the server has stopped taking requests (the host stops the server first).
/// </summary>
internal sealed class AccessLogFiles(ServingMetrics metrics, ILoggerFactory loggerFactory, TimeProvider time)
    : IHostedService, IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<AccessLogFile> _writers = [];
    private readonly ILogger _logger = loggerFactory.CreateLogger<AccessLogFiles>();
    private AccessLogLoggerSink? _loggerSink;
    private AccessLogFile? _current;

    /// <summary>Opens a file for appending; tests stand in a stream they control, to hold the disk side still.</summary>
    internal Func<string, Stream> Open { get; init; } = AccessLogFile.OpenFile;

    public TimeProvider Time { get; } = time;

    /// <summary>The file writer in force, or null when the lines are logged on the category (or the log is off).</summary>
    public AccessLogFile? Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>
    /// The sink for <paramref name="options"/> (null when the access log is off), keeping the file writer
    /// when its path is unchanged; a changed or removed path retires the old writer. Called while a
    /// configuration compiles, last among what can fail.
    /// </summary>
    /// <exception cref="OptionsValidationException">The file's folder cannot be created or the file cannot be opened for appending; the failure names <c>AccessLog.Path</c>.</exception>
    public AccessLogSink? Build(AccessLogOptions? options, string contentRoot)
    {
        lock (_lock)
        {
            var path = options?.Path is { } relative ? System.IO.Path.GetFullPath(relative, contentRoot) : null;
            if (path is not null && _current?.Path == path)
            {
                return _current;
            }

            AccessLogFile? next = null;
            if (path is not null)
            {
                Prepare(path);
                next = new AccessLogFile(path, options!.BufferSize, Open, Finishing(path), metrics, _logger, Time);
            }

            _current?.Retire(next);
            _current = next;
            _writers.RemoveAll(static writer => writer.Completion.IsCompleted);
            if (next is not null)
            {
                _writers.Add(next);
            }

            if (options is null)
            {
                return null;
            }

            return next is not null ? next : _loggerSink ??= new AccessLogLoggerSink(loggerFactory.CreateLogger(AccessLog.Category));
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Drains the writers and closes their files; gives up on a disk that is still stuck when the host's shutdown timeout ends.</summary>
    public async Task StopAsync(CancellationToken cancellationToken) =>
        await RetireAll().WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    /// <summary>
    /// Retires the writers without waiting (they finish in the background): the host's stop has waited for them
    /// already, within its shutdown timeout, and a disk still stuck after that must not hold the process.
    /// </summary>
    public void Dispose() => _ = RetireAll();

    private Task RetireAll()
    {
        lock (_lock)
        {
            _current?.Retire(null);
            _current = null;
            var pending = new Task[_writers.Count];
            for (var i = 0; i < pending.Length; i++)
            {
                pending[i] = _writers[i].Completion;
            }

            return Task.WhenAll(pending);
        }
    }

    /// <summary>A retired writer of <paramref name="path"/> that has not closed it yet: two writers must never append to one file at once.</summary>
    private Task? Finishing(string path)
    {
        for (var i = _writers.Count - 1; i >= 0; i--)
        {
            if (_writers[i].Path == path && !_writers[i].Completion.IsCompleted)
            {
                return _writers[i].Completion;
            }
        }

        return null;
    }

    /// <summary>Creates the folder and the file now, so a path that cannot be written fails at startup (or rejects the reload), as nginx's does.</summary>
    private static void Prepare(string path)
    {
        var folder = System.IO.Path.GetDirectoryName(path)!;
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Invalid($"AccessLog.Path: cannot create the folder '{folder}': {ex.Message}");
        }

        try
        {
            using var _ = File.OpenHandle(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Invalid($"AccessLog.Path: cannot open '{path}' for appending: {ex.Message}");
        }
    }

    /// <summary>A configuration error like the validator's, so that startup reports it the same way.</summary>
    private static OptionsValidationException Invalid(string failure) =>
        new(Options.DefaultName, typeof(ProductionServingOptions), [failure]);
}
