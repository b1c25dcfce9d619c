using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ProductionServing;

/// <summary>The short plain-text answers ProductionServing gives itself (502, 503, 504), encoded once.</summary>
internal static class ErrorResponse
{
    /// <summary>
    /// <c>Retry-After</c> of a pool's 503 (RFC 9110 §10.2.3): overload and restarts are short-lived, so
    /// clients come back after a second rather than hammer at once or stay away.
    /// </summary>
    public static readonly StringValues RetryAfter = "1";

    private static readonly StringValues TextPlain = "text/plain; charset=utf-8";
    private static readonly byte[] BadGateway = Encoding.ASCII.GetBytes("502 Bad Gateway\n");
    private static readonly byte[] ServiceUnavailable = Encoding.ASCII.GetBytes("503 Service Unavailable\n");
    private static readonly byte[] GatewayTimeout = Encoding.ASCII.GetBytes("504 Gateway Timeout\n");

    /// <summary>Sets the status and writes its body (the caller checked the response has not started).</summary>
    public static void Write(HttpResponse response, int statusCode)
    {
        var body = statusCode switch
        {
            StatusCodes.Status502BadGateway => BadGateway,
            StatusCodes.Status503ServiceUnavailable => ServiceUnavailable,
            StatusCodes.Status504GatewayTimeout => GatewayTimeout,
            _ => throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "ProductionServing answers only 502, 503 and 504 itself."),
        };

        response.Clear();
        response.StatusCode = statusCode;
        response.Headers.ContentType = TextPlain;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(response.HttpContext.Request.Method))
        {
            // The pipe takes these few bytes without waiting; the flush happens when the request ends.
            response.BodyWriter.Write(body.AsSpan());
        }
    }
}
