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

    /// <summary>
    /// Writes the request's id (32 characters) into <paramref name="destination"/>: the one a template made, or a
    /// new one when none did, made without a string (the access log is the last to ask).
    /// </summary>
    public static void Write(HttpContext context, Span<char> destination)
    {
        if (context.Features.Get<RequestId>() is { } id)
        {
            id.Value.CopyTo(destination);
            return;
        }

        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        Convert.TryToHexStringLower(bytes, destination, out _);
    }

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
