namespace ProductionServing;

/// <summary>The kind of handler that serves a location.</summary>
public enum ServingHandler
{
    /// <summary>The app: the rest of the ASP.NET Core pipeline, through a worker pool or directly.</summary>
    App,

    /// <summary>Static files from disk.</summary>
    Static,

    /// <summary>Forwarding to an upstream.</summary>
    Proxy,

    /// <summary>A fixed answer: a status, a redirect or a body (nginx <c>return</c>).</summary>
    Return,
}
