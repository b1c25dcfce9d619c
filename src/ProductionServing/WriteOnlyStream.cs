namespace ProductionServing;

/// <summary>
/// A response body's <see cref="Stream"/> view: written to, never read or sought. The views that stand in for
/// the server's body (counting it, compressing it, discarding an app's body for an <c>X-Accel-Redirect</c>)
/// derive from it and implement only their writes and flushes.
/// </summary>
internal abstract class WriteOnlyStream : Stream
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

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
