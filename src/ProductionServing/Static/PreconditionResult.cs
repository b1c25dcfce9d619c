namespace ProductionServing.Static;

/// <summary>The outcome of evaluating a request's conditional headers (RFC 9110 §13.2.2).</summary>
internal enum PreconditionResult
{
    /// <summary>Every condition holds (or none was sent): serve the representation (200, or 206 for a Range).</summary>
    Proceed,

    /// <summary>A GET or HEAD whose cached copy is current: 304 with the validators, no body (RFC 9110 §15.4.5).</summary>
    NotModified,

    /// <summary>A condition is false: 412 (RFC 9110 §15.5.13).</summary>
    PreconditionFailed,
}
