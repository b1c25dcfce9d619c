namespace ProductionServing;

/// <summary>
/// One location (nginx <c>location</c>): which requests it takes (<see cref="Match"/>), the one
/// handler that serves them (<see cref="Static"/>, <see cref="Proxy"/>, <see cref="App"/> or
/// <see cref="Return"/>), and the directives nginx users write inside a location.
/// </summary>
/// <remarks>
/// A request goes through the location's directives in nginx's order: <see cref="Allow"/>,
/// <see cref="RateLimit"/>, <see cref="MaxBodySize"/>, then the handler, whose response gets
/// <see cref="Compress"/> and <see cref="Headers"/>.
/// </remarks>
public sealed class LocationOptions
{
    /// <summary>
    /// <c>[modifier] pattern</c>: <c>= /exact</c>, <c>^~ /prefix</c> (a prefix that stops the regex
    /// search), <c>~ regex</c> (case-sensitive), <c>~* regex</c> (case-insensitive) or a plain
    /// <c>/prefix</c>. Required.
    /// </summary>
    /// <remarks>
    /// Matching is on the decoded, normalized request path, with nginx's selection rules: an exact
    /// match wins at once; otherwise the longest matching prefix is remembered; if it has <c>^~</c>
    /// it wins; otherwise regexes are tried in configuration order and the first match wins;
    /// otherwise the longest prefix wins. Exact and prefix patterns must start with <c>/</c> and
    /// compare case-sensitively, as nginx does on Linux.
    /// </remarks>
    public string? Match { get; set; }

    /// <summary>
    /// When <see langword="true"/>, a client's request never selects this location (it gets 404);
    /// it is reached only through an app's <c>X-Accel-Redirect</c> handoff or a <c>TryFiles</c>
    /// literal (nginx <c>internal</c>). Default: <see langword="false"/>.
    /// </summary>
    public bool Internal { get; set; }

    /// <summary>
    /// Whether requests this location serves are written to the access log (when one is configured);
    /// <see langword="false"/> is nginx's <c>access_log off</c>, for health checks and noisy assets.
    /// Default: <see langword="true"/>.
    /// </summary>
    public bool AccessLog { get; set; } = true;

    /// <summary>Serve files from disk. Default: <see langword="null"/>. Exactly one handler must be set.</summary>
    public StaticOptions? Static { get; set; }

    /// <summary>Forward to an upstream. Default: <see langword="null"/>. Exactly one handler must be set.</summary>
    public ProxyOptions? Proxy { get; set; }

    /// <summary>
    /// Run the app (the rest of the ASP.NET Core pipeline). Default: <see langword="null"/>.
    /// Exactly one handler must be set; in JSON, <c>"App": {}</c> runs the app through the
    /// <c>default</c> pool.
    /// </summary>
    public AppOptions? App { get; set; }

    /// <summary>
    /// Answer with a fixed status, redirect or body (nginx <c>return</c>). Default: <see langword="null"/>.
    /// Exactly one handler must be set.
    /// </summary>
    public ReturnOptions? Return { get; set; }

    /// <summary>
    /// Response headers set on every response of the location, the library's own error responses and
    /// 304s included (nginx <c>add_header … always</c>); values are variable templates, and a value of
    /// <c>""</c> removes a header the handler or the app set. Default: none.
    /// </summary>
    /// <remarks>
    /// Applied as the response starts, so streamed responses get them too. Names are case-insensitive; a
    /// name or value with CR, LF or NUL is a startup error.
    /// </remarks>
    public IDictionary<string, string?> Headers { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The largest request body, in bytes (nginx <c>client_max_body_size</c>); 0 is unlimited.
    /// Default: <see langword="null"/> (the server's own limit, Kestrel's <c>MaxRequestBodySize</c>).
    /// </summary>
    /// <remarks>
    /// A <c>Content-Length</c> above it is answered 413 before the handler runs; a chunked body that grows
    /// past it is answered 413 when nothing was sent yet, or else the connection is aborted.
    /// </remarks>
    public long? MaxBodySize { get; set; }

    /// <summary>
    /// IP addresses and CIDR networks (IPv4 and IPv6) allowed to use the location (nginx
    /// <c>allow …; deny all;</c>); anyone else gets 403. Default: <see langword="null"/> (everyone).
    /// </summary>
    /// <remarks>
    /// The address is <c>HttpContext.Connection.RemoteIpAddress</c> with an IPv4-mapped IPv6 address taken
    /// as IPv4; behind a load balancer, run <c>UseForwardedHeaders</c> first. An empty list denies everyone.
    /// </remarks>
    public IList<string>? Allow { get; set; }

    /// <summary>Request rate limiting per key (nginx <c>limit_req</c>). Default: <see langword="null"/> (none).</summary>
    public RateLimitOptions? RateLimit { get; set; }

    /// <summary>
    /// Compression of the location's responses (nginx <c>gzip on</c>, plus Brotli); in JSON <c>true</c> turns it
    /// on with the defaults. Default: <see langword="null"/> (off).
    /// </summary>
    public CompressOptions? Compress { get; set; }
}
