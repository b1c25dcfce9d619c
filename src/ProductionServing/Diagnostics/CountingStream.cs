namespace ProductionServing.Diagnostics;

/// <summary><see cref="CountingResponseBody.Stream"/>: the server's body stream, with the bytes written counted.</summary>
internal sealed class CountingStream(CountingResponseBody owner) : WriteOnlyStream
{
    public Stream Inner { get; set; } = null!;

    public override bool CanWrite => Inner.CanWrite;

    public override void Write(byte[] buffer, int offset, int count)
    {
        Inner.Write(buffer, offset, count);
        owner.Count(count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Inner.Write(buffer);
        owner.Count(buffer.Length);
    }

    public override void WriteByte(byte value)
    {
        Inner.WriteByte(value);
        owner.Count(1);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        owner.Count(count);
        return Inner.WriteAsync(buffer, offset, count, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        owner.Count(buffer.Length);
        return Inner.WriteAsync(buffer, cancellationToken);
    }

    // Stream's own Begin/End run the blocking Write, which the server refuses without AllowSynchronousIO.
    public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
        TaskToAsyncResult.Begin(WriteAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override void EndWrite(IAsyncResult asyncResult) => TaskToAsyncResult.End(asyncResult);

    public override void Flush() => Inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);

    // The server owns its body stream: disposing this view must not dispose it.
}
