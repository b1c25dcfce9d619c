using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that counts the timers created for each due time, so that a test
/// can wait until the code under test has set its timer before moving the clock past it: a timer set
/// just after the move would be due that much later again, and the test would wait for it in vain.
/// </summary>
internal sealed class TimerCountingTimeProvider : FakeTimeProvider
{
    private readonly ConcurrentDictionary<TimeSpan, int> _created = new();

    /// <summary>How many timers were created due <paramref name="dueTime"/> after their creation.</summary>
    public int Created(TimeSpan dueTime) => _created.GetValueOrDefault(dueTime);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _created.AddOrUpdate(dueTime, 1, static (_, count) => count + 1);
        return timer;
    }
}
