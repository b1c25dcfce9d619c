namespace ProductionServing;

/// <summary>
/// One location (nginx <c>location</c>): which requests it takes (<see cref="Match"/>) and the one
/// handler that serves them: <see cref="Static"/>, <see cref="Proxy"/> or <see cref="App"/>.
/// </summary>
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
}
