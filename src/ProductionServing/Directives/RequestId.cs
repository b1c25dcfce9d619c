using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Directives;

/// <summary>
/// nginx's <c>$request_id</c>: 16 random bytes as 32 lower-case hex characters, made on first use and the
/// same for the rest of the request (every template, and the access log, read the one value).
/// </summary>
internal sealed class RequestId
{
    private RequestId(string value) => Value = value;

    public string Value { get; }

    /// <summary>The request's id, made now if nothing asked for it before.</summary>
    public static string Of(HttpContext context)
    {
        if (context.Features.Get<RequestId>() is { } id)
        {
            return id.Value;
        }

        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        var made = new RequestId(Convert.ToHexStringLower(bytes));
        context.Features.Set(made);
        return made.Value;
    }
}
