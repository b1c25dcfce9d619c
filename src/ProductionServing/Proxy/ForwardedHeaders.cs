using System.Net.Http.Headers;
using System.Net;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using ProductionServing.Directives;

namespace ProductionServing.Proxy;

/// <summary>
/// <c>X-Forwarded-For</c> (the client's address appended to what earlier proxies wrote, as nginx's
/// <c>$proxy_add_x_forwarded_for</c>, unless the client's <c>Connection</c> names it),
/// <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> (set, not appended: they describe this hop's
/// client-facing request).
/// </summary>
internal static class ForwardedHeaders
{
    public const string ForwardedFor = "X-Forwarded-For";
    public const string ForwardedProto = "X-Forwarded-Proto";
    public const string ForwardedHost = "X-Forwarded-Host";

    private static readonly object ClientAddressKey = new();

    public static bool IsForwardedHeader(string name) => name.Length switch
    {
        15 => name.Equals(ForwardedFor, StringComparison.OrdinalIgnoreCase),
        16 => name.Equals(ForwardedHost, StringComparison.OrdinalIgnoreCase),
        17 => name.Equals(ForwardedProto, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>
    /// The client's address as text, formatted once per connection and address (kept in the
    /// connection's items): the requests of a keep-alive connection usually come from one address, but
    /// not always (UseForwardedHeaders or a PROXY protocol front end sets one per request).
    /// </summary>
    private static string? ClientAddress(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return null;
        }

        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is not null && items.TryGetValue(ClientAddressKey, out var cached)
            && cached is FormattedAddress formatted && formatted.Address.Equals(address))
        {
            return formatted.Text;
        }

        var text = address.ToString();
        if (items is not null)
        {
            items[ClientAddressKey] = new FormattedAddress(address, text);
        }

        return text;
    }

    private sealed record FormattedAddress(IPAddress Address, string Text);

    public static void Apply(HttpContext context, HttpRequestHeaders headers, ClientNetworks? trustedProxies)
    {
        var request = context.Request;
        var client = ClientAddress(context);

        // What a client says about earlier hops is taken at face value only from a trusted proxy (TrustedProxies);
        // from anyone else it is replaced, so a client cannot make up the address or scheme an upstream sees.
        var trusted = trustedProxies is not null && trustedProxies.Contains(context.Connection.RemoteIpAddress);
        var earlier = trusted ? request.Headers[ForwardedFor] : StringValues.Empty;
        if (earlier.Count != 0 && ProxyHeaders.IsListedIn(request.Headers.Connection, ForwardedFor))
        {
            // A field the client's Connection header names is for this hop only (RFC 9110 §7.6.1): it is
            // removed, not appended to, like any other such field.
            earlier = StringValues.Empty;
        }

        var forwardedFor = earlier.Count == 0 ? client
            : client is null ? earlier.ToString()
            : string.Concat(earlier.ToString(), ", ", client);
        if (forwardedFor is not null)
        {
            headers.TryAddWithoutValidation(ForwardedFor, forwardedFor);
        }

        var proto = trusted ? request.Headers[ForwardedProto] : StringValues.Empty;
        headers.TryAddWithoutValidation(ForwardedProto, proto.Count == 0 ? request.Scheme : proto.ToString());
        var host = trusted ? request.Headers[ForwardedHost] : StringValues.Empty;
        if (host.Count != 0)
        {
            headers.TryAddWithoutValidation(ForwardedHost, host.ToString());
        }
        else if (request.Host.HasValue)
        {
            headers.TryAddWithoutValidation(ForwardedHost, request.Host.Value);
        }
    }
}
