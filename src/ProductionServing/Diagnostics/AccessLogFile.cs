using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace ProductionServing.Diagnostics;

/// <summary>
/// Appends access-log lines to a file from a background loop, so that a request never waits for the disk:
/// a request's line goes into a bounded queue (<see cref="AccessLogOptions.BufferSize"/> lines) and, when the
/// queue is full because the disk is behind, is dropped and counted (<c>production_serving.access_log.dropped</c>,
/// and a Warning at most every <see cref="ReportInterval"/>). The loop writes what is queued through a
/// 64 KiB file buffer and flushes whenever the queue runs empty, so a line reaches the file within one batch.
/// </summary>
/// <remarks>
/// nginx writes its log from the worker that served the request (a blocking <c>write</c>, buffered with
/// <c>buffer=</c>): a stalled disk stalls every request of that worker. Here the disk only loses lines. A
/// file is kept across reloads that keep its path (<see cref="AccessLogFiles"/>); a writer that is retired
/// finishes its queue and closes the file, and a line that reaches it afterwards (from a request that began
/// under the old configuration) goes on to its successor.
/// </remarks>
internal sealed class AccessLogFile : AccessLogSink
{
    /// <summary>The most lines written between two flushes while the queue keeps filling.</summary>
    private const int MaxBatch = 1024;

    private const int FileBufferSize = 64 * 1024;

    private readonly Channel<AccessLogLine> _lines;
    private readonly Func<string, Stream> _open;
    private readonly ServingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private AccessLogFile? _successor;
    private long _unreportedDrops;
    private long _lastDropReport = long.MinValue;
    private long _unreportedLosses;
    private long _lastLossReport = long.MinValue;

    /// <param name="path">The file's full path.</param>
    /// <param name="capacity">The queue's size in lines.</param>
    /// <param name="open">Opens the file for appending (a test stands in a stream it controls).</param>
    /// <param name="after">The writer of the same file that is still finishing, if any: this one opens the file once it has closed it.</param>
    /// <param name="metrics">Counts dropped lines.</param>
    /// <param name="logger">For drops and write failures.</param>
    /// <param name="time">The host's clock, for the reports' interval.</param>
    public AccessLogFile(string path, int capacity, Func<string, Stream> open, Task? after, ServingMetrics metrics, ILogger logger, TimeProvider time)
    {
        Path = path;
        _open = open;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        _lines = Channel.CreateBounded<AccessLogLine>(new BoundedChannelOptions(capacity)
        {
            // Wait, not DropWrite: only TryWrite is called, which then answers false when the queue is full,
            // and the line is counted where it is dropped.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        Completion = WriteAllAsync(after);
    }

    /// <summary>The interval at which drops and write failures are reported, at most.</summary>
    public static TimeSpan ReportInterval { get; } = TimeSpan.FromSeconds(10);

    public string Path { get; }

    /// <summary>Ends when the writer has been retired and its queue written (or given up on) and the file closed.</summary>
    public Task Completion { get; }

    /// <summary>Opens <paramref name="path"/> for appending: the file is shared, so that tools can read it while it is written, and may be moved away.</summary>
    public static Stream OpenFile(string path) => new FileStream(path, new FileStreamOptions
    {
        Mode = FileMode.Append,
        Access = FileAccess.Write,
        Share = FileShare.ReadWrite | FileShare.Delete,
        BufferSize = FileBufferSize,
        Options = FileOptions.Asynchronous,
    });

    public override void Write(ReadOnlySpan<byte> line) => Enqueue(AccessLogLine.Copy(line));

    /// <summary>
    /// Takes no more lines: those queued are written and the file closed. Lines that arrive later go to
    /// <paramref name="successor"/> (the new file after a reload), or are dropped when there is none.
    /// </summary>
    public void Retire(AccessLogFile? successor)
    {
        Volatile.Write(ref _successor, successor);
        _lines.Writer.TryComplete();
    }

    private void Enqueue(AccessLogLine line)
    {
        if (_lines.Writer.TryWrite(line))
        {
            return;
        }

        // Full, or retired (the successor is set before the queue is closed).
        if (Volatile.Read(ref _successor) is { } successor)
        {
            successor.Enqueue(line);
            return;
        }

        line.Return();
        _metrics.AccessLogDropped(1);
        Interlocked.Increment(ref _unreportedDrops);
        if (TryReport(ref _lastDropReport))
        {
            DiagnosticsLog.AccessLogLinesDropped(_logger, Path, Interlocked.Exchange(ref _unreportedDrops, 0), ReportInterval);
        }
    }

    private async Task WriteAllAsync(Task? after)
    {
        if (after is not null)
        {
            await after.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var reader = _lines.Reader;
        Stream? file = null;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                file = await WriteBatchAsync(reader, file).ConfigureAwait(false);
            }
        }
        finally
        {
            await CloseAsync(file).ConfigureAwait(false);
        }
    }

    /// <summary>Writes what is queued (up to <see cref="MaxBatch"/> lines) and flushes; returns the open file, or null after a failure.</summary>
    private async Task<Stream?> WriteBatchAsync(ChannelReader<AccessLogLine> reader, Stream? file)
    {
        var taken = 0;
        try
        {
            file ??= _open(Path);
            while (taken < MaxBatch && reader.TryRead(out var line))
            {
                taken++;
                try
                {
                    await file.WriteAsync(line.Bytes).ConfigureAwait(false);
                }
                finally
                {
                    line.Return();
                }
            }

            await file.FlushAsync().ConfigureAwait(false);
            return file;
        }
        catch (Exception ex)
        {
            // The disk is full, the folder went away, the file system turned read-only: the lines taken
            // (some may have reached the file) are lost, and the next batch opens the file again.
            _metrics.AccessLogDropped(taken);
            Interlocked.Add(ref _unreportedLosses, taken);
            if (TryReport(ref _lastLossReport))
            {
                DiagnosticsLog.AccessLogWriteFailed(_logger, Path, Interlocked.Exchange(ref _unreportedLosses, 0), ReportInterval, ex);
            }

            await CloseAsync(file).ConfigureAwait(false);
            return null;
        }
    }

    private static async Task CloseAsync(Stream? file)
    {
        if (file is null)
        {
            return;
        }

        try
        {
            await file.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Flushing the last bytes failed: reported with the batch that failed, or lost with the disk.
        }
    }

    /// <summary>Whether a report is due: the first one, then at most one per <see cref="ReportInterval"/>.</summary>
    private bool TryReport(ref long last)
    {
        var now = _time.GetTimestamp();
        var previous = Volatile.Read(ref last);
        if (previous != long.MinValue && _time.GetElapsedTime(previous, now) < ReportInterval)
        {
            return false;
        }

        return Interlocked.CompareExchange(ref last, now, previous) == previous;
    }
}
