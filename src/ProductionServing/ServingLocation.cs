namespace ProductionServing;

/// <summary>
/// The location ProductionServing selected for the current request, available to later middleware
/// and endpoints (for logging, metrics or tests) as
/// <c>HttpContext.Features.Get&lt;ServingLocation&gt;()</c>.
/// </summary>
/// <remarks>
/// One instance exists per configured location (and one for "no location matched"); it is shared by
/// all requests and never changes. A configuration reload makes new instances.
/// </remarks>
public sealed class ServingLocation
{
    internal ServingLocation(int index, string? match, ServingHandler handler, string? pool)
    {
        Index = index;
        Match = match;
        Handler = handler;
        Pool = pool;
    }

    /// <summary>The location's position in <see cref="ProductionServingOptions.Locations"/>, or -1 when no location matched.</summary>
    public int Index { get; }

    /// <summary>The location's <see cref="LocationOptions.Match"/> as configured, or <see langword="null"/> when no location matched.</summary>
    public string? Match { get; }

    /// <summary>The kind of handler serving the request.</summary>
    public ServingHandler Handler { get; }

    /// <summary>
    /// For <see cref="ServingHandler.App"/>, the pool the app runs in (<see langword="null"/> when it
    /// runs directly); <see langword="null"/> for other handlers.
    /// </summary>
    public string? Pool { get; }

    /// <inheritdoc/>
    public override string ToString() => Match is null ? "(no location)" : $"location {Index} '{Match}'";
}
