using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Pools;

/// <summary>
/// The request and response bodies of a request running on a dedicated worker, installed over the
/// server's for the span of the app (see <see cref="ContextFreeStream"/>) and taken off again before the
/// pool answers or the server finishes the response.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The streams are views of the server's bodies, which the server disposes.")]
internal sealed class ContextFreeBody : IHttpResponseBodyFeature, IRequestBodyPipeFeature
{
    private readonly HttpContext _context;
    private readonly IHttpResponseBodyFeature _response;
    private readonly IRequestBodyPipeFeature? _requestPipe;
    private readonly Stream _requestBody;
    private readonly ContextFreeStream _responseStream;
    private readonly ContextFreePipeWriter _writer;
    private ContextFreePipeReader? _reader;

    public ContextFreeBody(HttpContext context)
    {
        _context = context;
        _response = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        _requestPipe = context.Features.Get<IRequestBodyPipeFeature>();
        _requestBody = context.Request.Body;
        _responseStream = new ContextFreeStream(_response.Stream);
        _writer = new ContextFreePipeWriter(_response.Writer);
        context.Features.Set<IHttpResponseBodyFeature>(this);
        context.Features.Set<IRequestBodyPipeFeature>(this);
        context.Request.Body = new ContextFreeStream(_requestBody);
    }

    public Stream Stream => _responseStream;

    public PipeWriter Writer => _writer;

    public PipeReader Reader => _reader ??= new ContextFreePipeReader(_requestPipe?.Reader ?? PipeReader.Create(_requestBody));

    /// <summary>Puts the server's features back (only those still ours: the app may have replaced them).</summary>
    public void Remove()
    {
        var features = _context.Features;
        if (features.Get<IHttpResponseBodyFeature>() == this)
        {
            features.Set(_response);
        }

        if (features.Get<IRequestBodyPipeFeature>() == this)
        {
            features.Set(_requestPipe);
        }

        if (_context.Request.Body is ContextFreeStream { Inner: var body } && body == _requestBody)
        {
            _context.Request.Body = _requestBody;
        }
    }

    public void DisableBuffering() => _response.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        using var _ = new NoSynchronizationContext();
        return _response.StartAsync(cancellationToken);
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        using var _ = new NoSynchronizationContext();
        return _response.SendFileAsync(path, offset, count, cancellationToken);
    }

    public Task CompleteAsync()
    {
        using var _ = new NoSynchronizationContext();
        return _response.CompleteAsync();
    }
}
