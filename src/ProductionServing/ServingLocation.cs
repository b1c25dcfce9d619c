using ProductionServing.Directives;

namespace ProductionServing;

/// <summary>
/// The location ProductionServing selected for the current request, available to later middleware
/// and endpoints (for logging, metrics or tests) as
/// <c>HttpContext.Features.Get&lt;ServingLocation&gt;()</c>.
/// </summary>
/// <remarks>
/// <para>
/// One instance exists per configured location (and one for "no location matched", one for the
/// <c>TryFiles</c> <c>@app</c> fallback); it is shared by all requests and never changes. A
/// configuration reload makes new instances. After an internal redirect (a <c>TryFiles</c> path, an
/// app's <c>X-Accel-Redirect</c>) it is the location that finally serves the request.
/// </para>
/// <para>
/// Why a sealed class with an internal constructor rather than an interface: ProductionServing is its
/// only producer and apps only read it, so there is nothing to implement; a class lets a later version
/// add properties without breaking anyone. It describes the configuration, not the request: what the
/// request met on its way (an error, a redirect) is recorded elsewhere, such as
/// <see cref="ServingErrorFeature"/>.
/// </para>
/// </remarks>
public sealed class ServingLocation
{
    internal ServingLocation(int index, string? match, ServingHandler handler, string? pool, LocationDirectives? directives)
    {
        Directives = directives;
        Index = index;
        Match = match;
        Handler = handler;
        Pool = pool;
    }

    /// <summary>The location's position in <see cref="ProductionServingOptions.Locations"/>, or -1 when no configured location serves the request (none matched, or the <c>@app</c> fallback).</summary>
    public int Index { get; }

    /// <summary>The location's <see cref="LocationOptions.Match"/> as configured; <c>@app</c> for the <c>TryFiles</c> fallback (nginx's named location); <see langword="null"/> when no location matched.</summary>
    public string? Match { get; }

    /// <summary>The kind of handler serving the request.</summary>
    public ServingHandler Handler { get; }

    /// <summary>
    /// For <see cref="ServingHandler.App"/>, the pool the app runs in (<see langword="null"/> when it
    /// runs directly); <see langword="null"/> for other handlers.
    /// </summary>
    public string? Pool { get; }

    /// <summary>The location's directives (docs/directives.md), for what reads them as the response starts; null when it has none.</summary>
    internal LocationDirectives? Directives { get; }

    /// <inheritdoc/>
    public override string ToString() => Match is null ? "(no location)" : $"location {Index} '{Match}'";
}
