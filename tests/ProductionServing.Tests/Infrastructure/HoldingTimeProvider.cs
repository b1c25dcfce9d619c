using Microsoft.Extensions.Time.Testing;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that stands in for a preempted thread: a timer callback that runs
/// outside <see cref="Step"/> (on a thread of the code under test, such as one that created a timer due
/// now) is held just after it returns, until <see cref="Release"/>. FakeTimeProvider reschedules a
/// periodic timer from the time at which its callback returns, so a test that moves the clock while
/// such a callback is still returning skips that timer's next tick (dotnet/extensions#6810 describes
/// the same rescheduling for a callback that advances the clock itself).
/// </summary>
internal sealed class HoldingTimeProvider : FakeTimeProvider
{
    [ThreadStatic]
    private static bool t_stepping;

    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Advances the clock; callbacks that run inside this call are never held.</summary>
    public void Step(TimeSpan delta)
    {
        t_stepping = true;
        try
        {
            Advance(delta);
        }
        finally
        {
            t_stepping = false;
        }
    }

    /// <summary>Lets every held callback return, and holds none from now on.</summary>
    public void Release() => _released.TrySetResult();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        base.CreateTimer(static s => ((Callback)s!).Invoke(), new Callback(this, callback, state), dueTime, period);

    private sealed class Callback(HoldingTimeProvider owner, TimerCallback callback, object? state)
    {
        public void Invoke()
        {
            callback(state);
            if (!t_stepping)
            {
                _ = owner._released.Task.Wait(TestTimeouts.Wait);
            }
        }
    }
}
