namespace ProductionServing.DeployBench;

/// <summary>One measured run: a workload against one deployment in one round, and the server core's CPU time it took.</summary>
/// <param name="LoadCpuSeconds">The load generator's own CPU time in the run: near the run's length, the generator (not the server) was the limit.</param>
internal sealed record Measurement(int Round, string Workload, string Deployment, bool OpenLoop, double Rate, LoadResult Result, double CpuSeconds, double LoadCpuSeconds)
{
    /// <summary>Server-side CPU time per completed request, in microseconds (every process of the deployment).</summary>
    public double CpuMicrosecondsPerRequest => Result.Requests == 0 ? 0 : CpuSeconds * 1e6 / Result.Requests;

    /// <summary>The share of the server core the deployment used during the run (1 = the whole core).</summary>
    public double ServerCoreUse => CpuSeconds / Result.Seconds;

    /// <summary>The share of the load core the generator used during the run.</summary>
    public double LoadCoreUse => LoadCpuSeconds / Result.Seconds;
}
