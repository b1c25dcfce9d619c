namespace ProductionServing.Routing;

/// <summary>A compiled location: its pattern, whether clients may select it, and the one handler that serves it.</summary>
internal sealed class Location(LocationPattern pattern, bool isInternal, LocationHandler handler, ServingLocation feature)
{
    public LocationPattern Pattern { get; } = pattern;

    /// <summary>Never selected for a client's request (nginx <c>internal</c>): such a request gets 404.</summary>
    public bool Internal { get; } = isInternal;

    public LocationHandler Handler { get; } = handler;

    /// <summary>Whether the location's directives use its regex's captures: selection then keeps the regex's match for them.</summary>
    public bool UsesCaptures { get; init; }

    /// <summary>The location's directives (docs/directives.md); null when it has none.</summary>
    public Directives.LocationDirectives? Directives => Feature.Directives;

    /// <summary>Where this location's <c>TryFiles</c> <c>@app</c> goes when it keeps directives for the app's responses; null for the shared fallback.</summary>
    public Location? AppFallback { get; init; }

    /// <summary>The location's <c>RateLimit</c>; null when it has none.</summary>
    public Directives.RequestRateLimit? RateLimit { get; init; }

    /// <summary>What later middleware sees through <c>HttpContext.Features</c>; shared by all requests.</summary>
    public ServingLocation Feature { get; } = feature;

    /// <summary>
    /// The location's <c>Compress</c>, or null. A static location compresses its cached files itself; any other
    /// handler's response is compressed as it flows (<see cref="Directives.CompressingResponseBody"/>).
    /// </summary>
    public Directives.CompressPolicy? Compress { get; init; }
}
