using System.IO.Pipelines;

namespace ProductionServing.Diagnostics;

/// <summary><see cref="CountingResponseBody.Writer"/>: the server's writer, with the bytes committed counted.</summary>
internal sealed class CountingPipeWriter(CountingResponseBody owner) : PipeWriter
{
    public PipeWriter Inner { get; set; } = null!;

    /// <summary>System.Text.Json's PipeWriter serializer needs these to decide when to flush.</summary>
    public override bool CanGetUnflushedBytes => Inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => Inner.UnflushedBytes;

    public override void Advance(int bytes)
    {
        Inner.Advance(bytes);
        owner.Count(bytes);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => Inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => Inner.GetSpan(sizeHint);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => Inner.FlushAsync(cancellationToken);

    /// <summary>Passed on whole: the server's own WriteAsync copies and flushes in one step.</summary>
    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        owner.Count(source.Length);
        return Inner.WriteAsync(source, cancellationToken);
    }

    public override void CancelPendingFlush() => Inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => Inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => Inner.CompleteAsync(exception);
}
