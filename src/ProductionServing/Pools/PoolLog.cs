using Microsoft.Extensions.Logging;

namespace ProductionServing.Pools;

/// <summary>The worker pools' log messages (event ids 4001–4099).</summary>
internal static partial class PoolLog
{
    [LoggerMessage(EventId = 4001, EventName = "PoolRejected", Level = LogLevel.Debug,
        Message = "Pool {Pool} did not run a request: {Reason}; answered 503.")]
    public static partial void Rejected(ILogger logger, string pool, PoolRejection reason);

    [LoggerMessage(EventId = 4002, EventName = "PoolOverloaded", Level = LogLevel.Warning,
        Message = "Pool {Pool} is overloaded: {Count} requests answered 503 since the last report ({Reason} most recently).")]
    public static partial void Overloaded(ILogger logger, string pool, long count, PoolRejection reason);

    [LoggerMessage(EventId = 4003, EventName = "RequestTimedOut", Level = LogLevel.Warning,
        Message = "Pool {Pool}: a request ran past its RequestTimeout of {Timeout} and was canceled; it was {Outcome}.")]
    public static partial void RequestTimedOut(ILogger logger, string pool, TimeSpan timeout, TimeoutOutcome outcome);

    [LoggerMessage(EventId = 4004, EventName = "WorkerReplaced", Level = LogLevel.Error,
        Message = "Pool {Pool}: worker {Worker} still runs a request canceled by its RequestTimeout of {Timeout}; the request was {Outcome} and worker {Replacement} took its place ({Replacements} replaced so far).")]
    public static partial void WorkerReplaced(ILogger logger, string pool, string worker, TimeSpan timeout, TimeoutOutcome outcome, string replacement, int replacements);

    [LoggerMessage(EventId = 4005, EventName = "RequestAbandoned", Level = LogLevel.Error,
        Message = "Pool {Pool}: a request still runs after its RequestTimeout of {Timeout} canceled it; it was {Outcome} and its slot given back.")]
    public static partial void RequestAbandoned(ILogger logger, string pool, TimeSpan timeout, TimeoutOutcome outcome);

    [LoggerMessage(EventId = 4006, EventName = "AbandonedWorkerExited", Level = LogLevel.Information,
        Message = "Pool {Pool}: replaced worker {Worker} returned from its stuck request and ended.")]
    public static partial void AbandonedWorkerExited(ILogger logger, string pool, string worker);

    [LoggerMessage(EventId = 4007, EventName = "WorkerCallbackFailed", Level = LogLevel.Error,
        Message = "Worker {Worker}: app code posted to the worker threw; the worker goes on.")]
    public static partial void WorkerCallbackFailed(ILogger logger, string worker, Exception exception);

    [LoggerMessage(EventId = 4008, EventName = "QueueDroppedAtShutdown", Level = LogLevel.Warning,
        Message = "Pool {Pool}: the host's shutdown timeout is near; {Count} queued requests answered 503.")]
    public static partial void QueueDroppedAtShutdown(ILogger logger, string pool, int count);

    [LoggerMessage(EventId = 4009, EventName = "TooManyStuck", Level = LogLevel.Critical,
        Message = "Pool {Pool}: a request still runs after its RequestTimeout of {Timeout} canceled it; it was {Outcome}, but {Limit} given-up requests are stuck already, so its slot stays taken until it returns.")]
    public static partial void TooManyStuck(ILogger logger, string pool, TimeSpan timeout, TimeoutOutcome outcome, int limit);
}
