namespace ProductionServing.Soak;

/// <summary>
/// One sample of the host: <see cref="Seconds"/> since the load started, its resident set
/// (<c>VmRSS</c>), the managed heap after the last collection of any generation and after the last
/// full one (<c>GC.GetGCMemoryInfo</c>, from <c>GET /__soak/gc</c>; -1 when that request failed), open
/// file descriptors and threads; and the requests completed since the previous sample, by outcome,
/// over every kind (<see cref="Interval"/> seconds).
/// </summary>
internal sealed record Sample(
    double Seconds,
    long RssBytes,
    long GcHeapBytes,
    long GcFullHeapBytes,
    int Fds,
    int Threads,
    double Interval,
    long[] ByOutcome)
{
    public long Requests => ByOutcome.Sum();

    public long Errors => ByOutcome[(int)Outcome.ErrorConnect..].Sum();

    public double PerSecond(Outcome outcome) => ByOutcome[(int)outcome] / Interval;
}
