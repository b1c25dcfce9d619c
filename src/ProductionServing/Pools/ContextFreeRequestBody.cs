using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Pools;

/// <summary>
/// The request body (<c>Request.Body</c>, <c>Request.BodyReader</c>) and the form of a request running on
/// a dedicated worker, installed over the server's for the span of the app (see <see cref="ContextFreeStream"/>)
/// and taken off again before the pool answers or the server finishes the response.
/// </summary>
/// <remarks>
/// Installed only for a request that can have a body (<see cref="IHttpRequestBodyDetectionFeature.CanHaveBody"/>):
/// reading an empty body completes at once, so it cannot wait on the worker. Made per request, never reused:
/// app code may keep the stream past its request, and it must still lead to that request's body.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The streams are views of the server's bodies, which the server disposes.")]
internal sealed class ContextFreeRequestBody : IRequestBodyPipeFeature
{
    private readonly HttpContext _context;
    private readonly IRequestBodyPipeFeature? _requestPipe;
    private readonly Stream _requestBody;
    private readonly ContextFreeStream _requestStream;
    private readonly PipeReader? _serverReader;
    private readonly ContextFreeForm _form;
    private ContextFreePipeReader? _reader;
    private Stream? _readerBody;

    public ContextFreeRequestBody(HttpContext context)
    {
        _context = context;
        _requestPipe = context.Features.Get<IRequestBodyPipeFeature>();
        _requestBody = context.Request.Body;

        // The server's own reader, taken while Request.Body is still the server's (Kestrel makes a new
        // reader over Request.Body once that is replaced).
        _serverReader = _requestPipe?.Reader;
        _requestStream = new ContextFreeStream(_requestBody);
        _form = new ContextFreeForm(context.Request, context.Features.Get<IFormFeature>());
        context.Features.Set<IRequestBodyPipeFeature>(this);
        context.Features.Set<IFormFeature>(_form);
        context.Request.Body = _requestStream;
    }

    /// <summary>Whether the request can have a body; without the server's word on it, it may.</summary>
    public static bool IsPossible(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false;

    /// <summary>
    /// As the server's feature does: the server's reader while <c>Request.Body</c> is unchanged, else a
    /// reader over whatever <c>Request.Body</c> is now (<c>EnableBuffering</c> replaces it).
    /// </summary>
    public PipeReader Reader
    {
        get
        {
            var body = _context.Request.Body;
            if (_reader is null || !ReferenceEquals(body, _readerBody))
            {
                _readerBody = body;
                PipeReader inner;
                if (ReferenceEquals(body, _requestStream) && _serverReader is not null)
                {
                    inner = _serverReader;
                }
                else
                {
                    inner = PipeReader.Create(body, new StreamPipeReaderOptions(leaveOpen: true));
                    _context.Response.OnCompleted(static reader => ((PipeReader)reader).CompleteAsync().AsTask(), inner);
                }

                _reader = new ContextFreePipeReader(inner);
            }

            return _reader;
        }
    }

    /// <summary>Puts the server's features back (only those still ours: the app may have replaced them).</summary>
    public void Remove()
    {
        var features = _context.Features;
        if (features.Get<IRequestBodyPipeFeature>() == this)
        {
            features.Set(_requestPipe);
        }

        if (features.Get<IFormFeature>() == _form)
        {
            // A form read on the worker stays read: hand the framework's feature on if one was made.
            features.Set(_form.Existing ?? _form.Made);
        }

        if (ReferenceEquals(_context.Request.Body, _requestStream))
        {
            _context.Request.Body = _requestBody;
        }
    }
}
