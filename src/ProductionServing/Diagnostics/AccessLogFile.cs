using Microsoft.Extensions.Logging;

namespace ProductionServing.Diagnostics;

/// <summary>
/// Appends access-log lines to a file from a background loop, so that a request never waits for the disk:
/// a request's line goes into a bounded queue (<see cref="AccessLogOptions.BufferSize"/> lines,
/// <see cref="AccessLogQueue"/>) and, when the queue is full because the disk is behind, is dropped and counted
/// (<c>production_serving.access_log.dropped</c>, and a Warning at most every <see cref="ReportInterval"/>). The
/// loop writes what is queued in 64 KiB writes, then pauses <see cref="BatchPause"/> so that the lines of busy
/// moments are written together instead of each waking the loop.
/// </summary>
/// <remarks>
/// nginx writes its log from the worker that served the request (a blocking <c>write</c>, buffered with
/// <c>buffer=</c> and <c>flush=</c>): a stalled disk stalls every request of that worker. Here the disk only
/// loses lines. A file is kept across reloads that keep its path (<see cref="AccessLogFiles"/>); a writer that
/// is retired finishes its queue and closes the file, and a line that reaches it afterwards (from a request
/// that began under the old configuration) goes on to its successor.
/// </remarks>
internal sealed class AccessLogFile : AccessLogSink, IDisposable
{
    private readonly AccessLogQueue _lines;
    private readonly CancellationTokenSource _retired = new();
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
        _lines = new AccessLogQueue(capacity);
        _open = open;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        Completion = WriteAllAsync(after);
    }

    /// <summary>The interval at which drops and write failures are reported, at most.</summary>
    public static TimeSpan ReportInterval { get; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The pause after each batch: lines arriving meanwhile only queue, and go in the next batch, so the
    /// queue's capacity must hold what arrives in this long (at most capacity ÷ pause lines per second).
    /// </summary>
    public static TimeSpan BatchPause { get; } = TimeSpan.FromMilliseconds(100);

    public string Path { get; }

    /// <summary>Ends when the writer has been retired and its queue written (or given up on) and the file closed.</summary>
    public Task Completion { get; }

    /// <summary>
    /// Opens <paramref name="path"/> for appending, unbuffered (the queue hands over 64 KiB at a time): the file
    /// is shared, so that tools can read it while it is written, and may be moved away.
    /// </summary>
    public static Stream OpenFile(string path) => new FileStream(path, new FileStreamOptions
    {
        Mode = FileMode.Append,
        Access = FileAccess.Write,
        Share = FileShare.ReadWrite | FileShare.Delete,
        BufferSize = 0,
        Options = FileOptions.Asynchronous,
    });

    public override void Write(ReadOnlySpan<byte> line)
    {
        var writer = this;
        while (true)
        {
            switch (writer._lines.TryAdd(line))
            {
                case AccessLogQueue.AddResult.Added:
                    return;
                case AccessLogQueue.AddResult.Completed when Volatile.Read(ref writer._successor) is { } successor:
                    // Retired after a reload: the successor is set before the queue is completed.
                    writer = successor;
                    continue;
                default:
                    writer.Dropped();
                    return;
            }
        }
    }

    /// <summary>
    /// Takes no more lines: those queued are written and the file closed. Lines that arrive later go to
    /// <paramref name="successor"/> (the new file after a reload), or are dropped when there is none.
    /// </summary>
    public void Retire(AccessLogFile? successor)
    {
        // In this order: the successor is there before the queue refuses lines, and the pause is cut short
        // before the loop can end (which disposes what is cancelled here).
        Volatile.Write(ref _successor, successor);
        _retired.Cancel();
        _lines.Complete();
    }

    /// <summary>Frees the loop's resources; called by the loop itself when it ends.</summary>
    public void Dispose()
    {
        _retired.Dispose();
        _lines.Dispose();
    }

    private void Dropped()
    {
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

        var batch = new List<AccessLogQueue.Segment>();
        Stream? file = null;
        try
        {
            while (await _lines.TakeAsync(batch).ConfigureAwait(false))
            {
                file = await WriteBatchAsync(batch, file).ConfigureAwait(false);
                _lines.Recycle(batch);

                // The pause paces the disk writes; it is not a time anyone reads, so it runs on the real clock
                // (a host on a fake clock still gets its lines), and retiring the writer cuts it short.
                await Task.Delay(BatchPause, _retired.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            await CloseAsync(file).ConfigureAwait(false);
            Dispose();
        }
    }

    /// <summary>Writes a batch and flushes; returns the open file, or null after a failure.</summary>
    private async Task<Stream?> WriteBatchAsync(List<AccessLogQueue.Segment> batch, Stream? file)
    {
        var written = 0;
        try
        {
            file ??= _open(Path);
            foreach (var segment in batch)
            {
                await file.WriteAsync(segment.Bytes).ConfigureAwait(false);
                written++;
            }

            await file.FlushAsync().ConfigureAwait(false);
            return file;
        }
        catch (Exception ex)
        {
            // The disk is full, the folder went away, the file system turned read-only: the lines of the
            // segments not written are lost (a failed write may have written part of its segment), and the
            // next batch opens the file again.
            long lost = 0;
            for (var i = written; i < batch.Count; i++)
            {
                lost += batch[i].Lines;
            }

            _metrics.AccessLogDropped(lost);
            Interlocked.Add(ref _unreportedLosses, lost);
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
            // Closing failed: what the file still held was reported with the batch that failed, or is lost with the disk.
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
