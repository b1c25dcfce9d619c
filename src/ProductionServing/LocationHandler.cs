namespace ProductionServing;

/// <summary>
/// What serves a location: <see cref="Static.StaticHandler"/>, <see cref="Proxy.ProxyHandler"/>,
/// <see cref="Pools.AppHandler"/> or <see cref="Directives.ReturnHandler"/>. Compiled once per configuration and shared by all requests; the
/// middleware's dispatch, and every internal redirect, is one call to <see cref="HandleAsync"/>.
/// </summary>
internal abstract class LocationHandler
{
    /// <summary>The kind of handler, as later middleware sees it in <see cref="ServingLocation.Handler"/>.</summary>
    public abstract ServingHandler Kind { get; }

    /// <summary>For an <see cref="ServingHandler.App"/> handler, the pool the app runs in; otherwise <see langword="null"/>.</summary>
    public virtual string? PoolName => null;

    /// <summary>The highest capture (<c>$N</c>) of the location's regex the handler's templates use, or 0.</summary>
    public virtual int HighestCapture => 0;

    /// <summary>Serves <paramref name="request"/>. Errors are answered through <see cref="ErrorResponse"/>.</summary>
    /// <param name="request">The request, the path it was selected for, and the location.</param>
    /// <returns>The task of the response.</returns>
    public abstract Task HandleAsync(ServingRequest request);
}
