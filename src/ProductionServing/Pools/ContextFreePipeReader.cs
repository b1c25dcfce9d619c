using System.IO.Pipelines;

namespace ProductionServing.Pools;

/// <summary><c>Request.BodyReader</c> on a dedicated worker: see <see cref="ContextFreeStream"/>.</summary>
internal sealed class ContextFreePipeReader(PipeReader inner) : PipeReader
{
    public PipeReader Inner { get; } = inner;

    public override void AdvanceTo(SequencePosition consumed) => Inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => Inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => Inner.CancelPendingRead();

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

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.ReadAsync(cancellationToken);
    }

    public override bool TryRead(out ReadResult result) => Inner.TryRead(out result);
}
