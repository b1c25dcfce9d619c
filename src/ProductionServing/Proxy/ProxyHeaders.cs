using System.Net.Http;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ProductionServing.Proxy;

/// <summary>
/// Header copying in both directions (RFC 9110 §7.6.1): hop-by-hop headers, and every header the
/// <c>Connection</c> header names, belong to one connection and are never forwarded.
/// </summary>
/// <remarks>
/// On Kestrel a request's <c>Connection</c> header may arrive incomplete: when it holds exactly one of
/// <c>keep-alive</c>, <c>close</c> and <c>upgrade</c> among other names, Kestrel replaces it with that
/// option alone while reading the request head (<c>HttpHeaders.ParseConnection</c> in
/// dotnet/aspnetcore src/Servers/Kestrel/Core/src/Internal/Http/HttpHeaders.cs), and it keeps no raw
/// header bytes (dotnet/aspnetcore#6210). The fields those other names meant cannot be told from
/// end-to-end ones, so the fields that are connection-specific by definition are removed whether or not
/// they are named (RFC 9110 §7.6.1 asks intermediaries to do so as well).
/// </remarks>
internal static class ProxyHeaders
{
    /// <summary>The h2c upgrade's settings (RFC 7540 §3.2.1), for the one connection the client asked to upgrade.</summary>
    private const string Http2Settings = "HTTP2-Settings";

    /// <summary>Copies the client's request headers to <paramref name="message"/>, without hop-by-hop ones, Host and the X-Forwarded ones (<see cref="ForwardedHeaders"/> writes those).</summary>
    public static void CopyRequestHeaders(HttpContext context, HttpRequestMessage message)
    {
        var headers = context.Request.Headers;
        var connection = headers.Connection;
        foreach (var header in headers)
        {
            var name = header.Key;
            if (IsHopByHop(name) || name.Equals(HeaderNames.Host, StringComparison.OrdinalIgnoreCase) || ForwardedHeaders.IsForwardedHeader(name)
                || (connection.Count != 0 && IsListedIn(connection, name)))
            {
                continue;
            }

            var value = header.Value;
            if (!AddRequestHeader(message.Headers, name, value) && message.Content is { } content)
            {
                // Content-Type, Content-Length, … belong to the content's headers in HttpClient's model.
                AddRequestHeader(content.Headers, name, value);
            }
        }
    }

    private static bool AddRequestHeader(HttpHeaders target, string name, StringValues value) =>
        value.Count == 1 ? target.TryAddWithoutValidation(name, value.ToString()) : target.TryAddWithoutValidation(name, (IEnumerable<string?>)value.ToArray());

    /// <summary>
    /// Copies the upstream's response headers to the client's response, without hop-by-hop ones, and
    /// without the content's Content-Length, which the caller sets as a number.
    /// Values are taken as received (<see cref="HttpHeaders.NonValidated"/>), so repeated headers such
    /// as <c>Set-Cookie</c> stay separate and nothing is re-parsed or reformatted.
    /// </summary>
    public static void CopyResponseHeaders(HttpHeaders source, IHeaderDictionary target, StringValues connection)
    {
        foreach (var header in source.NonValidated)
        {
            var name = header.Key;
            if (IsHopByHop(name) || (connection.Count != 0 && IsListedIn(connection, name))
                || (source is HttpContentHeaders && name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var values = header.Value;
            target[name] = values.Count == 1 ? new StringValues(values.ToString()) : ToStringValues(values);
        }
    }

    /// <summary>The upstream response's <c>Connection</c> header, as received.</summary>
    public static StringValues ConnectionOf(HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var values) ? ToStringValues(values) : StringValues.Empty;

    private static StringValues ToStringValues(HeaderStringValues values)
    {
        var array = new string[values.Count];
        var i = 0;
        foreach (var value in values)
        {
            array[i++] = value;
        }

        return new StringValues(array);
    }

    /// <summary>
    /// The hop-by-hop headers of RFC 9110 §7.6.1 and RFC 9112, the obsolete Proxy-Connection, and
    /// HTTP2-Settings, which a client must name in <c>Connection</c> (RFC 7540 §3.2.1), but Kestrel passes
    /// <c>Connection: Upgrade, HTTP2-Settings</c> on as <c>Connection: Upgrade</c>.
    /// </summary>
    public static bool IsHopByHop(string name) => name.Length switch
    {
        2 => name.Equals("TE", StringComparison.OrdinalIgnoreCase),
        7 => name.Equals(HeaderNames.Trailer, StringComparison.OrdinalIgnoreCase)
            || name.Equals(HeaderNames.Upgrade, StringComparison.OrdinalIgnoreCase),
        10 => name.Equals(HeaderNames.Connection, StringComparison.OrdinalIgnoreCase)
            || name.Equals(HeaderNames.KeepAlive, StringComparison.OrdinalIgnoreCase),
        14 => name.Equals(Http2Settings, StringComparison.OrdinalIgnoreCase),
        16 => name.Equals(HeaderNames.ProxyConnection, StringComparison.OrdinalIgnoreCase),
        17 => name.Equals(HeaderNames.TransferEncoding, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>Whether <paramref name="name"/> is one of the comma-separated tokens of <paramref name="connection"/>.</summary>
    public static bool IsListedIn(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            if (value is null)
            {
                continue;
            }

            var span = value.AsSpan();
            foreach (var range in span.Split(','))
            {
                if (span[range].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
