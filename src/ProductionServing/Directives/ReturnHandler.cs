using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ProductionServing.Directives;

/// <summary>
/// A location that answers by itself (nginx <c>return</c>): a redirect to <c>Location</c>, or a status with a
/// body. Every method gets the same answer, HEAD without the body (RFC 9110 §9.3.2).
/// </summary>
/// <remarks>
/// A status of 400 or more without a <c>Body</c> gets the library's own error body (<c>404 Not Found</c>), as
/// nginx's <c>return 404</c> sends its error page, but is not an error of the server: it has no
/// <c>error.type</c>. A redirect's body is empty. A relative <c>Location</c> is
/// sent as written (RFC 9110 §10.2.2 lets a client resolve it), where nginx makes it absolute with its
/// <c>absolute_redirect</c>.
/// </remarks>
internal sealed class ReturnHandler : LocationHandler
{
    private readonly int _status;
    private readonly VariableTemplate? _location;
    private readonly VariableTemplate? _body;
    private readonly byte[]? _constantBody;
    private readonly StringValues _contentType;

    public ReturnHandler(ReturnOptions options, int captures)
    {
        _status = options.Status;
        _location = Parse(options.Location, captures);
        _body = Parse(options.Body, captures);
        HighestCapture = Math.Max(_location?.HighestCapture ?? 0, _body?.HighestCapture ?? 0);
        _contentType = options.ContentType;
        if (_body is { IsConstant: true } constant)
        {
            _constantBody = Encoding.UTF8.GetBytes(constant.Text);
        }
        else if (_body is null && ErrorResponse.BodyOf(_status) is { } standard)
        {
            // The answer nginx's "return 404" gives is its error page; ours is the plain one every error gets.
            _constantBody = standard;
            _contentType = ErrorResponse.TextPlain;
        }

    }

    public override ServingHandler Kind => ServingHandler.Return;

    /// <summary>The status it answers with.</summary>
    public int Status => _status;

    /// <summary>The <c>Location</c> template as configured, or null when it is not a redirect.</summary>
    public string? Location => _location?.Text;

    /// <summary>The highest capture (<c>$N</c>) the location or the body uses, or 0.</summary>
    public override int HighestCapture { get; }

    /// <summary>Whether <paramref name="status"/> is one <c>Return</c> answers with a <c>Location</c> (nginx's redirect codes).</summary>
    public static bool IsRedirect(int status) => status is 301 or 302 or 303 or 307 or 308;

    public override Task HandleAsync(ServingRequest request)
    {
        var context = request.Context;
        var response = context.Response;
        response.StatusCode = _status;
        if (_location is not null)
        {
            response.Headers.Location = _location.ExpandHeader(request.Variables);
        }

        if (_body is null && _constantBody is not null && context.Features.Get<IStatusCodePagesFeature>() is { Enabled: true })
        {
            // The app's status code pages (UseStatusCodePages) render the error, as nginx's error_page does for
            // "return 404"; they only do so for a response without a body or a Content-Type.
            return Task.CompletedTask;
        }

        if (_body is null && _constantBody is null)
        {
            if (_status != StatusCodes.Status204NoContent && _status != StatusCodes.Status304NotModified)
            {
                response.ContentLength = 0;
            }

            return Task.CompletedTask;
        }

        response.Headers.ContentType = _contentType;
        var head = HttpMethods.IsHead(context.Request.Method);
        if (_constantBody is { } constant)
        {
            response.ContentLength = constant.Length;
            if (!head)
            {
                response.BodyWriter.Write(constant);
            }

            return Task.CompletedTask;
        }

        var body = _body!.Expand(request.Variables);
        response.ContentLength = Encoding.UTF8.GetByteCount(body);
        if (!head)
        {
            var writer = response.BodyWriter;
            var written = Encoding.UTF8.GetBytes(body, writer.GetSpan(body.Length * 3));
            writer.Advance(written);
        }

        return Task.CompletedTask;
    }

    private static VariableTemplate? Parse(string? text, int captures) => text is null ? null : VariableTemplate.Parse(text, captures);
}
