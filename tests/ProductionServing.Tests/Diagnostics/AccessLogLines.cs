using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProductionServing.Diagnostics;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Diagnostics;

/// <summary>
/// Reading the access log in tests: the lines logged on its category (event 5101, field <c>Line</c>) or
/// appended to its file. A line is written when the request's handler ends, which may be just after the
/// client has its response, so readers wait (bounded) for the lines they expect.
/// </summary>
internal static class AccessLogLines
{
    public const int LineEvent = 5101;

    /// <summary>The lines logged so far, oldest first.</summary>
    public static List<string> Logged(ServingHost host)
    {
        var lines = new List<string>();
        foreach (var record in host.Logs.GetSnapshot())
        {
            if (record.Id.Id == LineEvent && record.Category == AccessLog.Category && record.Level == LogLevel.Information)
            {
                lines.Add(record.Field("Line")!);
            }
        }

        return lines;
    }

    /// <summary>Waits until <paramref name="count"/> lines have been logged, and returns them.</summary>
    public static Task<List<string>> WaitForLoggedAsync(ServingHost host, int count) =>
        Poll.ForAsync(() => Logged(host) is { } lines && lines.Count >= count ? lines : null,
            $"{count} access-log lines are logged", () => string.Join(Environment.NewLine, Logged(host)));

    /// <summary>Waits until <paramref name="count"/> lines have been logged, and returns the last.</summary>
    public static async Task<string> WaitForLastAsync(ServingHost host, int count) => (await WaitForLoggedAsync(host, count))[count - 1];

    /// <summary>The lines in the file at <paramref name="path"/> (read while the writer may still hold it open).</summary>
    public static List<string> InFile(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    /// <summary>Waits until the file at <paramref name="path"/> has <paramref name="count"/> lines, and returns them.</summary>
    public static Task<List<string>> WaitForFileAsync(string path, int count) =>
        Poll.ForAsync(() => InFile(path) is { } lines && lines.Count >= count ? lines : null,
            $"{path} has {count} lines", () => string.Join(Environment.NewLine, InFile(path)));

    /// <summary>The access-log file writer registry, with its disk side replaced by <paramref name="open"/>.</summary>
    public static void UseOpener(IServiceCollection services, Func<string, Stream> open) =>
        services.AddSingleton(provider => new AccessLogFiles(provider.GetRequiredService<ServingMetrics>(),
            provider.GetRequiredService<ILoggerFactory>(), provider.GetRequiredService<TimeProvider>()) { Open = open });
}

/// <summary>
/// The access log's disk side held still: the file writer's first write waits (after signalling
/// <see cref="Entered"/>) until <see cref="Release"/>, as a stalled disk would, and then goes to the real file.
/// </summary>
internal sealed class GatedDisk
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the writer has begun a write and is held.</summary>
    public Task Entered => _entered.Task.WaitAsync(TestTimeouts.Wait);

    public void Release() => _released.TrySetResult();

    public Stream Open(string path) => new GatedStream(this, AccessLogFile.OpenFile(path));

    private sealed class GatedStream(GatedDisk disk, Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            disk._entered.TrySetResult();
            await disk._released.Task.WaitAsync(TestTimeouts.Wait, cancellationToken);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
