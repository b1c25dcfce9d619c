namespace ProductionServing.Pools;

/// <summary>How a request that ran past its pool's <c>RequestTimeout</c> was answered.</summary>
internal enum TimeoutOutcome
{
    /// <summary>Nothing had been sent: answered 504.</summary>
    Answered,

    /// <summary>Its response had started: the connection was aborted.</summary>
    Aborted,
}
