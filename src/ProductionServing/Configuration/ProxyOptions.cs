namespace ProductionServing;

/// <summary>Upstream forwarding for a location (nginx <c>proxy_pass</c>).</summary>
public sealed class ProxyOptions
{
    /// <summary>
    /// An absolute <c>http</c> or <c>https</c> URL whose host is an upstream name (a key of
    /// <see cref="ProductionServingOptions.Upstreams"/>) or a real host (IP literal or DNS name that
    /// resolves at startup). Required.
    /// </summary>
    /// <remarks>
    /// nginx's URI rules: without a path part the original path and query go upstream unchanged;
    /// with a path part (even just <c>/</c>) the matched location prefix is replaced by it. A path
    /// part is not allowed on a regex location.
    /// </remarks>
    public string? Pass { get; set; }

    /// <summary>
    /// When <see langword="true"/>, the client's <c>Host</c> header is sent upstream; otherwise the
    /// upstream server's own host. Default: <see langword="false"/>.
    /// </summary>
    public bool PreserveHost { get; set; }

    /// <summary>
    /// When <see langword="true"/>, a <c>Location</c> or <c>Refresh</c> response header pointing at
    /// the upstream's own URL is rewritten to the client-facing scheme, host and location prefix
    /// (nginx <c>proxy_redirect default</c>). Default: <see langword="true"/>.
    /// </summary>
    public bool RewriteRedirects { get; set; } = true;

    /// <summary>
    /// Request headers for the upstream (nginx <c>proxy_set_header</c>), applied after the standard
    /// forwarding headers; values are variable templates, and <c>""</c> removes a header. Default: none.
    /// </summary>
    /// <remarks>Names are case-insensitive; a name or value with CR, LF or NUL is a startup error.</remarks>
    public IDictionary<string, string?> SetHeaders { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
}
