using System.Collections.Concurrent;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// Records the exceptions of faulted tasks nobody awaited (<see cref="TaskScheduler.UnobservedTaskException"/>)
/// while it is subscribed: an error dropped on the floor, which no response and no log shows.
/// </summary>
/// <remarks>
/// The event is raised by a task's finalizer, so it is process-wide and late: garbage left by earlier
/// tests is collected before subscribing, and <see cref="AssertNone"/> collects again so every task
/// dropped meanwhile has been finalized. Every such exception counts, not only those whose stack
/// mentions ProductionServing: a task dropped by Kestrel or SocketsHttpHandler because of how the library
/// used them is as much a fault, the stack of one raised inside the runtime often names no caller, and
/// the tests that use this run alone, so nothing else in the process can raise one.
/// </remarks>
internal sealed class UnobservedTaskExceptions : IDisposable
{
    private readonly ConcurrentQueue<Exception> _seen = new();

    public UnobservedTaskExceptions()
    {
        Collect();
        TaskScheduler.UnobservedTaskException += OnUnobserved;
    }

    /// <summary>Collects garbage, runs the finalizers, and fails when any task exception went unobserved.</summary>
    public void AssertNone()
    {
        Collect();
        Assert.True(_seen.IsEmpty, "Unobserved task exceptions:" + Environment.NewLine + string.Join(Environment.NewLine + Environment.NewLine, _seen));
    }

    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => _seen.Enqueue(e.Exception);
}
