using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace ProductionServing.LoadServer;

/// <summary>
/// The servers of <c>tests/load/run SUITE=pools</c>: the same app (<see cref="PoolEndpoints"/>) alone
/// (<c>app</c>), behind ASP.NET Core's concurrency limiter (<c>limiter</c>), or behind the library's
/// worker pools configured for one benchmark each (<c>pool-*</c>). A version of the library without
/// worker pools refuses the <c>Pools</c> entries at startup, and the harness reports the row unavailable.
/// </summary>
internal static class PoolModes
{
    /// <summary>The isolation benchmark's blocking capacity, the same for the limiter and the library's pool.</summary>
    public const int BlockSlots = 4;

    /// <summary>
    /// The isolation benchmark's queue, the same for both: above the flood's 200 connections minus
    /// <see cref="BlockSlots"/>, so no /block request is refused and the rows differ only in isolation.
    /// </summary>
    public const int BlockQueue = 256;

    /// <summary>
    /// The dedicated pool's workers in the overhead benchmark: 16, a usual sync-worker count. The
    /// endpoint takes microseconds and the server has one core, so at most one request runs at a time
    /// and a worker is idle for nearly every arrival: what is measured is the hand-off to a worker
    /// thread and back, not a shortage of workers. Fewer than the 64 connections, so a burst may
    /// still queue, as it would in production.
    /// </summary>
    public const int OverheadWorkers = 16;

    /// <summary>The overload benchmark's pool capacity: 8 concurrent 20 ms requests, 400 requests per second.</summary>
    public const int WorkSlots = 8;

    /// <summary>The overload benchmark's queue: above its 80 connections, so the queue order decides, never the limit.</summary>
    public const int WorkQueue = 1000;

    private static readonly string[] Modes = ["app", "limiter", "pool-default", "pool-dedicated", "pool-isolation", "pool-fifo", "pool-lifo"];

    public static bool IsKnown(string? mode) => Modes.Contains(mode);

    public static void AddServices(IServiceCollection services, string mode)
    {
        switch (mode)
        {
            case "limiter":
                // ASP.NET Core's own answer to blocking endpoints: at most BlockSlots /block requests at
                // once, the rest queued oldest first (no thread held while queued); /healthz has no policy.
                services.AddRateLimiter(options =>
                {
                    options.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
                    options.AddConcurrencyLimiter(PoolEndpoints.BlockPolicy, limiter =>
                    {
                        limiter.PermitLimit = BlockSlots;
                        limiter.QueueLimit = BlockQueue;
                        limiter.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
                    });
                });
                break;
            case "pool-default":
                // The default pool exists without this entry; writing it out (with its defaults) makes a
                // version without pools refuse the mode instead of measuring the app run directly.
                services.AddProductionServing(options =>
                {
                    options.Pools[PoolOptions.DefaultPoolName] = new PoolOptions();
                    AddLocations(options, "= /hello", PoolOptions.DefaultPoolName);
                });
                break;
            case "pool-dedicated":
                services.AddProductionServing(options =>
                {
                    options.Pools["dedicated"] = new PoolOptions { DedicatedThreads = true, Workers = OverheadWorkers };
                    AddLocations(options, "= /hello", "dedicated");
                });
                break;
            case "pool-isolation":
                services.AddProductionServing(options =>
                {
                    options.Pools["blocking"] = new PoolOptions { DedicatedThreads = true, Workers = BlockSlots, QueueLimit = BlockQueue };
                    AddLocations(options, "= /block", "blocking");
                    options.Locations.Add(new LocationOptions { Match = "= /healthz", App = new AppOptions { Pool = null } });
                });
                break;
            case "pool-fifo" or "pool-lifo":
                // TargetQueueDelay stays at its default (5 ms).
                services.AddProductionServing(options =>
                {
                    options.Pools["work"] = new PoolOptions
                    {
                        MaxConcurrency = WorkSlots,
                        QueueLimit = WorkQueue,
                        QueueOrder = mode == "pool-fifo" ? QueueOrder.Fifo : QueueOrder.AdaptiveLifo,
                    };
                    AddLocations(options, "= /work", "work");
                });
                break;
        }
    }

    /// <summary>Builds the pipeline; throws <c>OptionsValidationException</c> when the library refuses the configuration.</summary>
    public static void Map(WebApplication app, string mode)
    {
        LatencyRecorder? latency = null;
        if (mode is "pool-fifo" or "pool-lifo")
        {
            latency = new LatencyRecorder();
            latency.UseTiming(app);
        }

        if (mode == "limiter")
        {
            app.UseRateLimiter();
        }
        else if (mode != "app")
        {
            app.UseProductionServing();
        }

        PoolEndpoints.Map(app, limitBlock: mode == "limiter");
        latency?.MapEndpoints(app);
    }

    private static void AddLocations(ProductionServingOptions options, string match, string pool)
    {
        // The harness's endpoints (/__alloc, /__threads, /__latency) never wait in a pool and never count.
        options.Locations.Add(new LocationOptions { Match = "^~ /__", App = new AppOptions { Pool = null } });
        options.Locations.Add(new LocationOptions { Match = match, App = new AppOptions { Pool = pool } });
    }
}
