using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Directives;

/// <summary>
/// What a location does besides its handler (docs/directives.md), compiled once: who may use it (<c>Allow</c>), how large
/// a body it takes (<c>MaxBodySize</c>) and the headers its responses get (<c>Headers</c>). The middleware runs
/// them in nginx's order; null on a location that has none.
/// </summary>
internal sealed class LocationDirectives
{
    private LocationDirectives(ClientNetworks? allow, long? maxBodySize, ResponseHeaders? headers)
    {
        Allow = allow;
        MaxBodySize = maxBodySize;
        Headers = headers;
    }

    /// <summary>The networks whose clients may use the location; null for everyone.</summary>
    public ClientNetworks? Allow { get; }

    /// <summary>The largest request body in bytes, 0 for unlimited; null for the server's own limit.</summary>
    public long? MaxBodySize { get; }

    /// <summary>The headers set on the location's responses; null for none.</summary>
    public ResponseHeaders? Headers { get; }

    /// <summary>The highest capture (<c>$N</c>) a directive uses: the location's regex then keeps its match for them.</summary>
    public int HighestCapture => Headers?.HighestCapture ?? 0;

    /// <summary>Compiles the directives of a location the validator accepted; null when it has none.</summary>
    /// <param name="location">The location's options.</param>
    /// <param name="captures">How many groups the location's regex has (0 for a location without a regex).</param>
    /// <returns>The directives, or null.</returns>
    public static LocationDirectives? Compile(LocationOptions location, int captures)
    {
        var allow = location.Allow is { } entries ? ClientNetworks.Parse(entries) : null;
        var headers = ResponseHeaders.Compile(location.Headers, captures);
        return allow is null && location.MaxBodySize is null && headers is null
            ? null
            : new LocationDirectives(allow, location.MaxBodySize, headers);
    }

    /// <summary>
    /// What the <c>TryFiles</c> <c>@app</c> fallback of this location keeps: its response headers and body limit.
    /// The fallback is part of the location (nginx users write the headers once, on the <c>server</c>), and the
    /// client was already admitted by <c>Allow</c> and <c>RateLimit</c>. Null when nothing is kept.
    /// </summary>
    public LocationDirectives? ForAppFallback() =>
        Headers is null && MaxBodySize is null ? null : new LocationDirectives(null, MaxBodySize, Headers);

    /// <summary><c>Allow</c>: whether the request's client may use the location.</summary>
    public bool Allows(HttpContext context) => Allow is not { } allow || allow.Contains(context.Connection.RemoteIpAddress);

    /// <summary>
    /// <c>MaxBodySize</c>: false when the request announces a body over the limit (nginx answers 413 before it
    /// reads any); otherwise the limit becomes the server's for this request, so a chunked body that grows past
    /// it fails while it is read (Kestrel answers 413, or the handler aborts a response it had started).
    /// </summary>
    public bool AdmitsBody(HttpContext context)
    {
        if (MaxBodySize is not { } limit)
        {
            return true;
        }

        if (limit != 0 && context.Request.ContentLength > limit)
        {
            return false;
        }

        // Read-only once the body has been read from, as after an app's X-Accel-Redirect took it.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            if (context.Features.Get<ServerBodyLimit>() is null)
            {
                context.Features.Set(ServerBodyLimit.Of(feature.MaxRequestBodySize));
            }

            feature.MaxRequestBodySize = limit == 0 ? null : limit;
        }

        return true;
    }

    /// <summary>
    /// After an internal redirect to a location without <c>MaxBodySize</c>: the server's own limit again, not the
    /// one a location before it set, as nginx takes <c>client_max_body_size</c> from the location that serves.
    /// </summary>
    public static void RestoreServerBodyLimit(HttpContext context)
    {
        if (context.Features.Get<ServerBodyLimit>() is { } server
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = server.Limit;
        }
    }

    /// <summary>The server's body limit for a request, before a <c>MaxBodySize</c> replaced it.</summary>
    private sealed class ServerBodyLimit(long? limit)
    {
        // The server's limit is nearly always one value (Kestrel's MaxRequestBodySize): its holder is shared, so
        // remembering it allocates nothing per request.
        private static ServerBodyLimit? s_last;

        public long? Limit { get; } = limit;

        public static ServerBodyLimit Of(long? limit)
        {
            var last = Volatile.Read(ref s_last);
            if (last is null || last.Limit != limit)
            {
                last = new ServerBodyLimit(limit);
                Volatile.Write(ref s_last, last);
            }

            return last;
        }
    }
}
