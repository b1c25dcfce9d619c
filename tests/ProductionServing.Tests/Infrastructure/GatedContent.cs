using System.Net;
using System.Text;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>A chunked request body: the first piece, then the second once <c>gate</c> completes.</summary>
internal sealed class GatedContent(string first, Task gate, string second) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(first), cancellationToken);
        await stream.FlushAsync(cancellationToken);
        await gate.WaitAsync(TestTimeouts.Wait, cancellationToken);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(second), cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
