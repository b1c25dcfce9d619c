using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using ProductionServing.Diagnostics;

namespace ProductionServing.Pools;

/// <summary>How long a request waited for admission, told to the metrics, the request's record and its <c>Server-Timing</c>.</summary>
internal sealed partial class WorkerPool
{
    /// <summary>
    /// A request's wait for admission ended after <paramref name="ticks"/> (timestamp ticks of the pool's
    /// <see cref="TimeProvider"/>; 0 when it never queued): into the queue-wait histogram, the request's
    /// record and, when it is admitted, its <c>Server-Timing</c>.
    /// </summary>
    private void WaitEnded(HttpContext context, long ticks, PoolRejection rejection, RequestRecord? record, bool serverTiming)
    {
        if (record is not null || _metrics.PoolQueueDurationEnabled)
        {
            WaitEndedCore(context, ticks, rejection, record, serverTiming);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WaitEndedCore(HttpContext context, long ticks, PoolRejection rejection, RequestRecord? record, bool serverTiming)
    {
        var wait = ticks == 0 ? TimeSpan.Zero : _time.GetElapsedTime(0, ticks);
        _metrics.PoolQueueWaited(Name, wait, rejection switch
        {
            PoolRejection.None => null,
            // Not a rejection (nothing is answered), but not an admission either: kept apart from both.
            PoolRejection.ClientGone => ErrorTypes.ClientAborted,
            _ => ErrorTypes.Of(ErrorOf(rejection)),
        });
        if (record is null)
        {
            return;
        }

        record.QueueWaitTicks = ticks;
        if (serverTiming && rejection == PoolRejection.None)
        {
            ServerTiming.Append(context.Response, "queue", wait);
        }
    }
}
