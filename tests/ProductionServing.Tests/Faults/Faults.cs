using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Faults;

/// <summary>
/// The fault tests count what the whole process holds open (<see cref="ProcessResources"/>) and every
/// unobserved task exception (<see cref="UnobservedTaskExceptions"/>), so they run alone, after the
/// parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Faults
{
    public const string Name = "Faults";

    /// <summary>Why the fault tests run only on Linux.</summary>
    public const string ReadsProc = "counts the process's descriptors and threads in /proc/self";
}
