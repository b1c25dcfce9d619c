namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// The bounds of the tests' waits, in one place. They are far above what the awaited thing takes even on
/// a loaded 2-core machine, so only a hang reaches them; a bound never stands in for a signal.
/// </summary>
internal static class TestTimeouts
{
    /// <summary>
    /// 10 s: a signal, a response, a host starting or stopping, background state polled with <see cref="Poll"/>.
    /// </summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// 60 s: work that takes real time on a busy machine: large transfers, a bounded load loop, a process
    /// of its own starting and stopping, a file watcher noticing a change.
    /// </summary>
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
}
