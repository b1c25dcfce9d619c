using System.Runtime;
using ProductionServing.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProductionServing.Tests.Faults;

/// <summary>
/// Runs a fault over and over and proves the process got over it each time: it goes on serving, and
/// holds no more descriptors, sockets or threads than before, and no task exception went unobserved.
/// </summary>
internal static class FaultRun
{
    /// <summary>How often the fault repeats after the warm-up: a leak of one per fault shows as this many.</summary>
    public const int Repetitions = 12;

    /// <summary>
    /// How far above the baseline a count may stay: a connection that was closing while the baseline was
    /// taken, or a pooled connection opened later. Far below <see cref="Repetitions"/>, so a leak of one per
    /// fault fails.
    /// </summary>
    public const int Slack = 2;

    /// <summary>
    /// What the faults and the wait for the counts may allocate while the GC is held off: about three
    /// times what the largest scenario uses, and room for the whole wait (a count allocates some 15 KiB).
    /// </summary>
    private const long NoGCBudget = 256L * 1024 * 1024;

    /// <summary>
    /// Runs <paramref name="fault"/> then <paramref name="normal"/> (a request that must succeed) once to
    /// warm up (lazily built state: JIT, pools, connections), takes the baseline, runs both
    /// <paramref name="repetitions"/> more times, then waits until the counts are back within
    /// <see cref="Slack"/> of the baseline (what a fault leaves closes asynchronously) and checks that no
    /// task exception went unobserved.
    /// </summary>
    /// <param name="fault">One fault, with its assertions on what the client saw.</param>
    /// <param name="normal">A normal request after it, which must succeed.</param>
    /// <param name="output">Where the counts are written: the baseline, right after the faults, and once settled.</param>
    /// <param name="repetitions">How often the fault repeats after the warm-up.</param>
    public static async Task RepeatAsync(Func<Task> fault, Func<Task> normal, ITestOutputHelper output, int repetitions = Repetitions)
    {
        using var unobserved = new UnobservedTaskExceptions();
        await fault();
        await normal();

        // A handle nobody disposed is closed by its finalizer at the next collection, which would pass
        // for a release: the GC is held off from the baseline to the end (GC.TryStartNoGCRegion), as in
        // a server that allocates little, where such a handle stays open.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(GC.TryStartNoGCRegion(NoGCBudget), "The GC could not be held off.");
        var allocated = GC.GetTotalAllocatedBytes();
        try
        {
            var baseline = ProcessResources.Count();
            output.WriteLine("baseline descriptors: " + ProcessResources.DescribeDescriptors());
            for (var i = 0; i < repetitions; i++)
            {
                await fault();
                await normal();
            }

            var after = ProcessResources.Count();
            var settled = await Poll.ForAsync(() => !HeldOff ? "" : ProcessResources.Count() is var now && now.IsWithin(baseline, Slack) ? now.ToString() : null,
                $"the process holds what it held before the faults ({baseline}, slack {Slack})",
                () => $"{ProcessResources.Count()}; threads: {ProcessResources.DescribeThreads()}; descriptors: {ProcessResources.DescribeDescriptors()}");
            output.WriteLine($"baseline {baseline}; after {repetitions} faults {after}; settled {settled}");
            Assert.True(HeldOff, $"A collection ran before the counts came back ({after} after the faults, {baseline} before): "
                + $"{GC.GetTotalAllocatedBytes() - allocated:N0} bytes were allocated, more than the {NoGCBudget:N0} the GC was held off for, and its finalizers may have closed what was leaked.");
        }
        finally
        {
            output.WriteLine($"allocated {(GC.GetTotalAllocatedBytes() - allocated) / (1024 * 1024)} MiB with the GC held off");
            if (HeldOff)
            {
                GC.EndNoGCRegion();
            }
        }

        unobserved.AssertNone();
    }

    /// <summary>Whether the GC is still held off: a collection ends that, when the budget is spent.</summary>
    private static bool HeldOff => GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;

    /// <summary>GETs <paramref name="path"/> and checks it answers 200 with <paramref name="expected"/>.</summary>
    public static async Task AssertServesAsync(HttpClient client, string path, string expected)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }
}
