namespace ProductionServing.Soak;

/// <summary>
/// One kind of request of the mix: <see cref="Workers"/> loops, each sending one request at a time and
/// at most one every <see cref="Interval"/>, so the load is bounded whatever the host's speed.
/// <see cref="Send"/> gets the request number, a buffer of the worker's own to read bodies into, and a
/// token that fires at the request's timeout or the run's end; it returns the outcome and, for an
/// error, what went wrong.
/// </summary>
internal sealed record LoadKind(
    string Name,
    int Workers,
    TimeSpan Interval,
    string Description,
    Func<long, byte[], CancellationToken, Task<(Outcome Outcome, string? Message)>> Send);
