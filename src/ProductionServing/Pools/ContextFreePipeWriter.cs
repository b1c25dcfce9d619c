using System.IO.Pipelines;

namespace ProductionServing.Pools;

/// <summary><c>Response.BodyWriter</c> on a dedicated worker: see <see cref="ContextFreeStream"/>.</summary>
internal sealed class ContextFreePipeWriter(PipeWriter inner) : PipeWriter
{
    public PipeWriter Inner { get; } = inner;

    public override bool CanGetUnflushedBytes => Inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => Inner.UnflushedBytes;

    public override void Advance(int bytes)
    {
        using var _ = new NoSynchronizationContext();
        Inner.Advance(bytes);
    }

    public override void CancelPendingFlush() => Inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        using var _ = new NoSynchronizationContext();
        Inner.Complete(exception);
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.CompleteAsync(exception);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.FlushAsync(cancellationToken);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.WriteAsync(source, cancellationToken);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => Inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => Inner.GetSpan(sizeHint);
}
