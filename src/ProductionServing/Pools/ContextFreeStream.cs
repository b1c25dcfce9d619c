namespace ProductionServing.Pools;

/// <summary>
/// A request or response body stream as app code on a dedicated worker sees it: every call reaches the
/// server's stream without the worker's <see cref="SynchronizationContext"/>. Kestrel implements
/// blocking <c>Read</c>/<c>Write</c> by waiting on its async versions, whose inner awaits would otherwise
/// queue their continuations behind the very worker that waits: sync I/O (the blocking code a dedicated
/// pool is for) would deadlock as soon as data is not already buffered.
/// </summary>
internal sealed class ContextFreeStream(Stream inner) : Stream
{
    public Stream Inner { get; } = inner;

    public override bool CanRead => Inner.CanRead;

    public override bool CanSeek => Inner.CanSeek;

    public override bool CanWrite => Inner.CanWrite;

    public override long Length => Inner.Length;

    public override long Position
    {
        get => Inner.Position;
        set => Inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.Read(buffer, offset, count);
    }

    public override int Read(Span<byte> buffer)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.Read(buffer);
    }

    public override int ReadByte()
    {
        using var _ = new NoSynchronizationContext();
        return Inner.ReadByte();
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.ReadAsync(buffer, offset, count, cancellationToken);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.ReadAsync(buffer, cancellationToken);
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        using var _ = new NoSynchronizationContext();
        Inner.Write(buffer, offset, count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        using var _ = new NoSynchronizationContext();
        Inner.Write(buffer);
    }

    public override void WriteByte(byte value)
    {
        using var _ = new NoSynchronizationContext();
        Inner.WriteByte(value);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.WriteAsync(buffer, offset, count, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
        using var _ = new NoSynchronizationContext();
        Inner.Flush();
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.FlushAsync(cancellationToken);
    }

    public override void CopyTo(Stream destination, int bufferSize)
    {
        using var _ = new NoSynchronizationContext();
        Inner.CopyTo(destination, bufferSize);
    }

    public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        using var _ = new NoSynchronizationContext();
        return Inner.CopyToAsync(destination, bufferSize, cancellationToken);
    }

    // Stream's own Begin/End run the blocking Read/Write, which the server refuses without
    // AllowSynchronousIO; its streams implement them asynchronously, and so does this view.
    public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
        TaskToAsyncResult.Begin(ReadAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override int EndRead(IAsyncResult asyncResult) => TaskToAsyncResult.End<int>(asyncResult);

    public override IAsyncResult BeginWrite(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
        TaskToAsyncResult.Begin(WriteAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override void EndWrite(IAsyncResult asyncResult) => TaskToAsyncResult.End(asyncResult);

    public override long Seek(long offset, SeekOrigin origin) => Inner.Seek(offset, origin);

    public override void SetLength(long value) => Inner.SetLength(value);

    // The server owns its body streams: disposing this view must not dispose them.
}
