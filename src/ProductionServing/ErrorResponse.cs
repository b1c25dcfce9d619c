using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ProductionServing;

/// <summary>
/// The one place where ProductionServing's own error answers are written: the status each
/// <see cref="ServingError"/> maps to, a short plain-text body (<c>404 Not Found</c>, as nginx's error
/// pages without the HTML), and the headers that go with some statuses. The error is recorded as a
/// <see cref="ServingErrorFeature"/> in every case; once the response has started, the connection is
/// aborted instead, so a broken response never looks complete.
/// </summary>
internal static class ErrorResponse
{
    /// <summary>
    /// <c>Retry-After</c> of every 503 (RFC 9110 §10.2.3): overload and restarts are short-lived, so clients
    /// come back after a second rather than hammer at once or stay away.
    /// </summary>
    private static readonly StringValues RetryAfter = "1";

    /// <summary>
    /// 429's <c>Retry-After</c> values up to two minutes, made once: under a flood of refused requests, the
    /// refusals are the hot path.
    /// </summary>
    private static readonly StringValues[] RetryAfterSeconds = CreateRetryAfterSeconds();

    /// <summary>What a static location allows (RFC 9110 §15.5.6: a 405 must list the allowed methods).</summary>
    private static readonly StringValues AllowGetHead = "GET, HEAD";

    /// <summary>The <c>Content-Type</c> of the error bodies.</summary>
    public static readonly StringValues TextPlain = "text/plain; charset=utf-8";
    private static readonly StringValues Close = "close";

    /// <summary>The body of each 4xx and 5xx status, encoded once.</summary>
    private static readonly byte[]?[] Bodies = CreateBodies();

    /// <summary>The status <paramref name="error"/> is answered with.</summary>
    public static int StatusCode(ServingError error) => error switch
    {
        ServingError.InvalidRequestTarget or ServingError.InvalidRequestBody => StatusCodes.Status400BadRequest,
        ServingError.DirectoryListingDenied or ServingError.ClientForbidden => StatusCodes.Status403Forbidden,
        ServingError.InternalLocation or ServingError.FileNotFound or ServingError.UnsafeRedirect or ServingError.TryFilesStatus => StatusCodes.Status404NotFound,
        ServingError.MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        ServingError.RequestBodyTooLarge => StatusCodes.Status413PayloadTooLarge,
        ServingError.RateLimited => StatusCodes.Status429TooManyRequests,
        ServingError.NoLiveUpstream or ServingError.UpstreamConnectFailed or ServingError.UpstreamReset or ServingError.UpstreamInvalidResponse
            or ServingError.UpstreamRequestUnsendable or ServingError.UpstreamResponseAborted => StatusCodes.Status502BadGateway,
        ServingError.UpstreamQueueFull or ServingError.UpstreamQueueTimeout or ServingError.PoolQueueFull or ServingError.PoolQueueTimeout
            or ServingError.PoolShed or ServingError.PoolShuttingDown => StatusCodes.Status503ServiceUnavailable,
        ServingError.UpstreamConnectTimeout or ServingError.UpstreamTimeout or ServingError.RequestTimeout => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>Answers <paramref name="error"/> with its status, or aborts the connection when the response has started.</summary>
    /// <param name="context">The request.</param>
    /// <param name="error">What went wrong.</param>
    /// <param name="exception">The cause, when there is one.</param>
    /// <param name="closeConnection">Whether to end the HTTP/1.x connection after the answer (<c>Connection: close</c>).</param>
    /// <returns>A completed task: the few body bytes go into the response pipe without waiting.</returns>
    public static Task Answer(HttpContext context, ServingError error, Exception? exception = null, bool closeConnection = false) =>
        Answer(context, error, StatusCode(error), exception, closeConnection);

    /// <summary>
    /// Answers <see cref="ServingError.RateLimited"/>: 429 with <c>Retry-After</c> in whole seconds, rounded up
    /// so that a client that waits as told finds room (RFC 9110 §10.2.3 has no fractions).
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="retryAfter">When the request's key will have room for it again.</param>
    /// <returns>A completed task.</returns>
    public static Task TooManyRequests(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        return Answer(context, ServingError.RateLimited, StatusCodes.Status429TooManyRequests,
            retryAfter: seconds < RetryAfterSeconds.Length ? RetryAfterSeconds[seconds] : seconds.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Answers <paramref name="error"/> with <paramref name="statusCode"/> (a <c>TryFiles</c> <c>=CODE</c>, Kestrel's verdict on a body).</summary>
    /// <param name="context">The request.</param>
    /// <param name="error">What went wrong.</param>
    /// <param name="statusCode">The status to answer.</param>
    /// <param name="exception">The cause, when there is one.</param>
    /// <param name="closeConnection">Whether to end the HTTP/1.x connection after the answer (<c>Connection: close</c>).</param>
    /// <param name="retryAfter">The <c>Retry-After</c> of a 429; a 503's is always one second.</param>
    /// <returns>A completed task.</returns>
    public static Task Answer(HttpContext context, ServingError error, int statusCode, Exception? exception = null, bool closeConnection = false,
        StringValues retryAfter = default)
    {
        context.Features.Set(ServingErrorFeature.For(error, exception));
        var response = context.Response;
        if (response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        // What the handler or the app set so far describes a response that is not sent.
        response.Clear();
        response.StatusCode = statusCode;
        var headers = response.Headers;
        if (closeConnection && (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol)))
        {
            headers.Connection = Close;
        }

        if (statusCode == StatusCodes.Status405MethodNotAllowed)
        {
            headers.Allow = AllowGetHead;
        }
        else if (statusCode == StatusCodes.Status503ServiceUnavailable)
        {
            headers.RetryAfter = RetryAfter;
        }
        else if (retryAfter.Count > 0)
        {
            headers.RetryAfter = retryAfter;
        }

        // An app that set up status code pages (UseStatusCodePages, before UseProductionServing) renders
        // the body itself: it only does so for a response without a body or a Content-Type.
        if ((uint)statusCode >= (uint)Bodies.Length || Bodies[statusCode] is not { } body
            || context.Features.Get<IStatusCodePagesFeature>() is { Enabled: true })
        {
            return Task.CompletedTask;
        }

        headers.ContentType = TextPlain;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            response.BodyWriter.Write(body);
        }

        return Task.CompletedTask;
    }

    /// <summary>The body an error answer with <paramref name="statusCode"/> has (<c>404 Not Found\n</c>), or null for a status without one.</summary>
    public static byte[]? BodyOf(int statusCode) => (uint)statusCode < (uint)Bodies.Length ? Bodies[statusCode] : null;

    /// <summary>Records <paramref name="error"/> and aborts the connection: the response had started, or must not look complete.</summary>
    /// <param name="context">The request.</param>
    /// <param name="error">What went wrong.</param>
    /// <param name="exception">The cause, when there is one.</param>
    public static void Abort(HttpContext context, ServingError error, Exception? exception = null)
    {
        context.Features.Set(ServingErrorFeature.For(error, exception));
        context.Abort();
    }

    private static StringValues[] CreateRetryAfterSeconds()
    {
        var values = new StringValues[121];
        for (var seconds = 1; seconds < values.Length; seconds++)
        {
            values[seconds] = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return values;
    }

    private static byte[]?[] CreateBodies()
    {
        var bodies = new byte[]?[600];
        for (var status = 400; status < bodies.Length; status++)
        {
            if (ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } reason)
            {
                bodies[status] = Encoding.ASCII.GetBytes(status.ToString(CultureInfo.InvariantCulture) + " " + reason + "\n");
            }
        }

        return bodies;
    }
}
