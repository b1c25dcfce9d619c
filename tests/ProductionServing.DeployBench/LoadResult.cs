namespace ProductionServing.DeployBench;

/// <summary>What one load run saw.</summary>
/// <param name="Requests">Responses completed inside the measured window.</param>
/// <param name="Errors">Responses with a status other than 2xx, and broken connections, inside the window.</param>
/// <param name="Latency">Closed loop: send to response. Open loop: intended send time to response (coordinated omission corrected).</param>
/// <param name="Service">Open loop only: actual send to response, the server's share without the generator's lateness.</param>
/// <param name="PerSecond">Completed responses in each whole second of the window.</param>
/// <param name="Seconds">The window's length.</param>
internal sealed record LoadResult(long Requests, long Errors, Histogram Latency, Histogram Service, long[] PerSecond, double Seconds)
{
    public double RequestsPerSecond => Requests / Seconds;
}
