namespace ProductionServing;

/// <summary>
/// Set on a request that ProductionServing answered with an error of its own, or aborted: read it in
/// middleware placed before <c>UseProductionServing()</c>, after the request, as
/// <c>HttpContext.Features.Get&lt;ServingErrorFeature&gt;()</c> (YARP's <c>IForwarderErrorFeature</c> plays
/// the same part).
/// </summary>
/// <remarks>
/// A sealed class rather than an interface: ProductionServing is its only producer, so there is nothing
/// for an app to implement. Absent on requests that ended without such an error (a failed proxy attempt
/// that a retry made good records nothing). When a request meets several, the last one is recorded.
/// Immutable: one instance per error without an exception serves every request.
/// </remarks>
public sealed class ServingErrorFeature
{
    private static readonly ServingErrorFeature[] WithoutException = CreateShared();

    private ServingErrorFeature(ServingError error, Exception? exception)
    {
        Error = error;
        Exception = exception;
    }

    /// <summary>What went wrong.</summary>
    public ServingError Error { get; }

    /// <summary>
    /// The error's <c>error.type</c>: the name metrics, logs, the access log and the status page give it
    /// (<c>upstream_reset</c>, <c>queue_full</c>, …; docs/observability.md, "Why a request failed").
    /// </summary>
    public string ErrorType => Diagnostics.ErrorTypes.Of(Error);

    /// <summary>The exception behind the error, when there was one (an upstream's connection failure, say); otherwise <see langword="null"/>.</summary>
    public Exception? Exception { get; }

    /// <summary>The feature for <paramref name="error"/>: a shared one without an exception, so an overload of 503s allocates none.</summary>
    internal static ServingErrorFeature For(ServingError error, Exception? exception) =>
        exception is null && (uint)error < (uint)WithoutException.Length ? WithoutException[(int)error] : new ServingErrorFeature(error, exception);

    private static ServingErrorFeature[] CreateShared()
    {
        var values = Enum.GetValues<ServingError>();
        var max = 0;
        foreach (var value in values)
        {
            max = Math.Max(max, (int)value);
        }

        var shared = new ServingErrorFeature[max + 1];
        for (var i = 0; i < shared.Length; i++)
        {
            shared[i] = new ServingErrorFeature((ServingError)i, null);
        }

        return shared;
    }
}
