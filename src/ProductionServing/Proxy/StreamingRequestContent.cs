using System.IO.Pipelines;
using System.Net;
using System.Net.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// The client's request body as the upstream request's content, read from Kestrel's pipe and written
/// upstream as it arrives, never buffered whole. It records whether any byte was taken from the
/// client, because after that the request cannot be sent again to another server.
/// </summary>
internal sealed class StreamingRequestContent(PipeReader body, long? length, CancellationToken aborted) : HttpContent
{
    private int _started;

    /// <summary>True once serialization began: from then on the body is (partly) consumed.</summary>
    public bool Started => Volatile.Read(ref _started) != 0;

    /// <summary>The client's side failed (it went away, or sent a malformed body): not the upstream's fault.</summary>
    public Exception? ClientError { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("A streamed request body can be sent only once.");
        }

        using var linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, aborted)
            : null;
        var token = linked?.Token ?? aborted;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await body.ReadAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || aborted.IsCancellationRequested)
            {
                ClientError = ex;
                throw;
            }

            var buffer = result.Buffer;
            foreach (var segment in buffer)
            {
                await stream.WriteAsync(segment, token).ConfigureAwait(false);
            }

            body.AdvanceTo(buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                break;
            }

            // Each piece goes out as it arrives: an upstream reading a stream of events must see them.
            await stream.FlushAsync(token).ConfigureAwait(false);
        }
    }

    protected override bool TryComputeLength(out long length1)
    {
        length1 = length ?? -1;
        return length is not null;
    }
}
