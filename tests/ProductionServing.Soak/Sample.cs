namespace ProductionServing.Soak;

/// <summary>
/// One sample of the host: <see cref="Seconds"/> since the load started; its resident set
/// (<c>VmRSS</c>) and that set's anonymous, file-backed and shared parts (<c>RssAnon</c>,
/// <c>RssFile</c>, <c>RssShmem</c>: the runtime's JIT code lives in the last); the GC's figures from
/// <c>GET /__soak/gc</c> (the heap after the last collection of any generation and after the last full
/// one, the memory it has committed, and its gen0 and gen2 collection counts); open file descriptors
/// and threads; and the requests completed since the previous sample, by outcome, over every kind
/// (<see cref="Interval"/> seconds).
/// </summary>
internal sealed record Sample(double Seconds, double Interval, long[] ByOutcome)
{
    public long RssBytes { get; init; }

    public long RssAnonBytes { get; init; }

    public long RssFileBytes { get; init; }

    public long RssShmemBytes { get; init; }

    public long GcHeapBytes { get; init; }

    public long GcFullHeapBytes { get; init; }

    public long GcCommittedBytes { get; init; }

    public long Gen0Collections { get; init; }

    public long Gen2Collections { get; init; }

    public int Fds { get; init; }

    public int Threads { get; init; }

    public long Requests => ByOutcome.Sum();

    public long Errors => ByOutcome[(int)Outcome.ErrorConnect..].Sum();

    public double PerSecond(Outcome outcome) => ByOutcome[(int)outcome] / Interval;
}
