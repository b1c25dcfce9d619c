using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ProductionServing.Proxy;

/// <summary>
/// nginx's <c>proxy_redirect default</c>: a <c>Location</c> or <c>Refresh</c> URL that starts with the
/// upstream's own address and the <c>Pass</c> path is rewritten to the client-facing scheme and host
/// and the location prefix, so a redirect the upstream makes to itself keeps the client on this server.
/// </summary>
internal sealed class RedirectRewriter(string passOrigin, string? passPath, string? prefix, string scheme)
{
    private const string Refresh = "Refresh";

    private readonly string _upstreamPath = passPath ?? "/";
    private readonly string _clientPath = passPath is null ? "/" : prefix ?? "/";

    public void Rewrite(HttpContext context, UpstreamServer server)
    {
        var headers = context.Response.Headers;
        var location = headers.Location;
        if (location.Count == 1 && TryRewrite(context, server, scheme, location.ToString(), out var rewritten))
        {
            headers.Location = rewritten;
        }

        var refresh = headers[Refresh];
        if (refresh.Count == 1)
        {
            // "5; url=http://…": the URL after "url=".
            var value = refresh.ToString();
            var at = value.IndexOf("url=", StringComparison.OrdinalIgnoreCase);
            if (at >= 0 && TryRewrite(context, server, scheme, value[(at + 4)..], out var url))
            {
                headers[Refresh] = new StringValues(string.Concat(value.AsSpan(0, at + 4), url));
            }
        }
    }

    private bool TryRewrite(HttpContext context, UpstreamServer server, string scheme, string url, out string rewritten)
    {
        rewritten = url;
        // The server's own address (what it knows itself as, with Host set to it) or the Pass URL's host.
        var origin = server.Origin(scheme);
        if (!url.StartsWith(origin, StringComparison.OrdinalIgnoreCase))
        {
            origin = passOrigin;
            if (!url.StartsWith(origin, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        if (!url.AsSpan(origin.Length).StartsWith(_upstreamPath, StringComparison.Ordinal))
        {
            return false;
        }

        var request = context.Request;
        rewritten = string.Concat(request.Scheme + "://" + request.Host.Value, _clientPath, url.AsSpan(origin.Length + _upstreamPath.Length));
        return true;
    }
}
