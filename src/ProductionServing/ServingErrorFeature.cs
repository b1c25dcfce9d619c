namespace ProductionServing;

/// <summary>
/// Set on a request that ProductionServing answered with an error of its own, or aborted: read it in
/// middleware placed before <c>UseProductionServing()</c>, after the request, as
/// <c>HttpContext.Features.Get&lt;ServingErrorFeature&gt;()</c> (YARP's <c>IForwarderErrorFeature</c> plays
/// the same part).
/// </summary>
/// <remarks>
/// A sealed class rather than an interface: ProductionServing is its only producer, so there is nothing
/// for an app to implement. Absent on requests that ended without such an error. When a request meets
/// several (a retry after a failed attempt, say), the last one is recorded.
/// </remarks>
public sealed class ServingErrorFeature
{
    internal ServingErrorFeature(ServingError error, Exception? exception)
    {
        Error = error;
        Exception = exception;
    }

    /// <summary>What went wrong.</summary>
    public ServingError Error { get; }

    /// <summary>The exception behind the error, when there was one (an upstream's connection failure, say); otherwise <see langword="null"/>.</summary>
    public Exception? Exception { get; }
}
