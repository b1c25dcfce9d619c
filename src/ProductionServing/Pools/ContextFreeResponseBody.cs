using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Pools;

/// <summary>
/// The response body of a request running on a dedicated worker, installed over the server's for the
/// span of the app (see <see cref="ContextFreeStream"/>) and taken off again before the pool answers or
/// the server finishes the response.
/// </summary>
/// <remarks>
/// Made per request, never reused, and so are the stream and writer it hands out: app code may keep
/// them (or this feature) past its request, and they must still lead to that request's response, never
/// to the next request the worker runs (beneath them, the server's body may be reused by the
/// connection's next request, as Kestrel's own is). The stream and writer are made on first use: an app usually
/// touches one of them, or neither.
/// </remarks>
internal sealed class ContextFreeResponseBody(IHttpResponseBodyFeature server) : IHttpResponseBodyFeature
{
    private ContextFreeStream? _stream;
    private ContextFreePipeWriter? _writer;

    public Stream Stream => _stream ??= new ContextFreeStream(server.Stream);

    public PipeWriter Writer => _writer ??= new ContextFreePipeWriter(server.Writer);

    /// <summary>Installs a view over <paramref name="context"/>'s response body.</summary>
    public static ContextFreeResponseBody Install(HttpContext context)
    {
        var body = new ContextFreeResponseBody(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>());
        context.Features.Set<IHttpResponseBodyFeature>(body);
        return body;
    }

    /// <summary>Puts the server's feature back, if this view is still in place (the app may have replaced it).</summary>
    public void Remove(IFeatureCollection features)
    {
        if (features.Get<IHttpResponseBodyFeature>() == this)
        {
            features.Set(server);
        }
    }

    public void DisableBuffering() => server.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        using var _ = new NoSynchronizationContext();
        return server.StartAsync(cancellationToken);
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        using var _ = new NoSynchronizationContext();
        return server.SendFileAsync(path, offset, count, cancellationToken);
    }

    public Task CompleteAsync()
    {
        using var _ = new NoSynchronizationContext();
        return server.CompleteAsync();
    }
}
