namespace ProductionServing.Routing;

/// <summary>A compiled location: its pattern, its flags and the handler that serves it.</summary>
internal sealed class Location(LocationPattern pattern, bool isInternal, ServingLocation feature,
    Static.StaticHandler? staticHandler = null, Proxy.ProxyHandler? proxyHandler = null, Pools.WorkerPool? pool = null)
{
    /// <summary>The static file handler, for a <see cref="ServingHandler.Static"/> location.</summary>
    public Static.StaticHandler? Static { get; } = staticHandler;

    /// <summary>The forwarding handler, for a <see cref="ServingHandler.Proxy"/> location.</summary>
    public Proxy.ProxyHandler? Proxy { get; } = proxyHandler;

    /// <summary>For an <see cref="ServingHandler.App"/> location, the pool the app runs in (<see langword="null"/>: directly).</summary>
    public Pools.WorkerPool? Pool { get; } = pool;

    public LocationPattern Pattern { get; } = pattern;

    /// <summary>Never selected for a client's request (nginx <c>internal</c>): such a request gets 404.</summary>
    public bool Internal { get; } = isInternal;

    /// <summary>What later middleware sees through <c>HttpContext.Features</c>; shared by all requests.</summary>
    public ServingLocation Feature { get; } = feature;
}
