using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Pools;

/// <summary>
/// A pool's <c>RequestTimeout</c> for one running request (gunicorn's worker timeout, in-process).
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>When the timeout passes, <c>HttpContext.RequestAborted</c> is canceled (as ASP.NET Core's request
/// timeouts middleware does). An app that honours it ends with <see cref="OperationCanceledException"/>,
/// and the pool answers 504 if nothing was sent (<see cref="Answer"/>).</item>
/// <item>If the app still runs <see cref="AbandonGrace"/> later, the pool gives up on it from the timer's
/// thread (the request's own thread may be the stuck one): the client gets its 504 now, or an aborted
/// connection if the response had started, and <see cref="WorkerPool.GiveUp"/> frees the slot and
/// replaces the dedicated worker.</item>
/// <item>Either the app's end (<see cref="TryFinish"/>) or the giving up wins, never both. The request
/// itself ends only when the app does, so the server never recycles an HttpContext the stuck code holds.</item>
/// </list>
/// </remarks>
internal sealed class RequestDeadline : IDisposable
{
    /// <summary>
    /// How long the app gets to honour the cancellation before it counts as stuck: long enough for code
    /// that observes the token to unwind, so it is never answered for under its feet.
    /// </summary>
    public static readonly TimeSpan AbandonGrace = TimeSpan.FromSeconds(1);

    private const int Running = 0;
    private const int Canceled = 1;
    private const int Abandoned = 2;
    private const int Finished = 3;

    private readonly WorkerPool _pool;
    private readonly HttpContext _context;
    private readonly WorkerThread? _worker;
    private readonly TimeSpan _timeout;
    private readonly IHttpResponseBodyFeature? _responseBody;
    private readonly AccelRedirectBody? _watch;
    private readonly CancellationToken _original;
    private readonly CancellationTokenSource _source;
    private readonly ITimer _timer;
    private readonly TaskCompletionSource _givenUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _app;
    private int _stage;
    private bool _timedOut;

    public RequestDeadline(WorkerPool pool, HttpContext context, WorkerThread? worker, TimeSpan timeout, TimeProvider time)
    {
        _pool = pool;
        _context = context;
        _worker = worker;
        _timeout = timeout;
        // The server's own body: an app's X-Accel-Redirect watch (or anything else between) must not
        // swallow the answer given for stuck code.
        var body = context.Features.Get<IHttpResponseBodyFeature>();
        _watch = body as AccelRedirectBody;
        _responseBody = _watch is null ? body : _watch.Inner;
        _original = context.RequestAborted;
        _source = CancellationTokenSource.CreateLinkedTokenSource(_original);
        context.RequestAborted = _source.Token;
        _timer = time.CreateTimer(static s => ((RequestDeadline)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Whether the timeout passed and canceled the request's token (not the client going away).</summary>
    public bool TimedOut => Volatile.Read(ref _timedOut) && !_original.IsCancellationRequested;

    /// <summary>Completes once the pool has given up on the app.</summary>
    public Task GivenUp => _givenUp.Task;

    /// <summary>Whether giving up freed the request's slot (false when too many stuck requests hold theirs).</summary>
    public bool SlotFreed { get; private set; }

    /// <summary>The app's task, once started: a request that has ended by the grace's end is not given up on.</summary>
    public void Watch(Task app) => Volatile.Write(ref _app, app);

    /// <summary>Called when the app's task ended: <see langword="false"/> when the pool already gave up on it.</summary>
    public bool TryFinish()
    {
        var stage = Volatile.Read(ref _stage);
        while (stage != Abandoned)
        {
            var seen = Interlocked.CompareExchange(ref _stage, Finished, stage);
            if (seen == stage)
            {
                return true;
            }

            stage = seen;
        }

        return false;
    }

    /// <summary>Answers for an app that honoured the timeout's cancellation: 504, or an abort once the response started.</summary>
    /// <param name="closeConnection">Whether the 504 ends the HTTP/1.x connection (a given-up request's app still holds it).</param>
    public TimeoutOutcome Answer(bool closeConnection = false)
    {
        // The 504 (or the abort) is the answer, even if the app had set X-Accel-Redirect.
        _watch?.Withdraw();
        if (_context.Response.HasStarted)
        {
            ErrorResponse.Abort(_context, ServingError.RequestTimeout);
            return TimeoutOutcome.Aborted;
        }

        // The app's own response body (compression, buffering) or the X-Accel-Redirect watch (which
        // discards what a handing-off app writes) must not take the answer: it goes through the server's.
        if (_responseBody is not null)
        {
            _context.Features.Set(_responseBody);
        }

        try
        {
            ErrorResponse.Answer(_context, ServingError.RequestTimeout, closeConnection: closeConnection);
            return TimeoutOutcome.Answered;
        }
        catch (InvalidOperationException)
        {
            // The response started meanwhile (stuck code woke up and wrote): nothing clean can be sent.
            ErrorResponse.Abort(_context, ServingError.RequestTimeout);
            return TimeoutOutcome.Aborted;
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        if (_context.RequestAborted == _source.Token)
        {
            _context.RequestAborted = _original;
        }

        _source.Dispose();
    }

    private void Fire()
    {
        if (Interlocked.CompareExchange(ref _stage, Canceled, Running) == Running)
        {
            Volatile.Write(ref _timedOut, true);
            _timer.Change(AbandonGrace, Timeout.InfiniteTimeSpan);
            try
            {
                _source.Cancel();
            }
            catch (Exception ex) when (ex is AggregateException or ObjectDisposedException)
            {
                // An app's cancellation callback threw, or the request ended meanwhile: nothing left to cancel.
            }
        }
        else if (Volatile.Read(ref _app) is not { IsCompleted: true } && Interlocked.CompareExchange(ref _stage, Abandoned, Canceled) == Canceled)
        {
            try
            {
                GiveUp();
            }
            finally
            {
                _givenUp.TrySetResult();
            }
        }
    }

    private void GiveUp()
    {
        // The connection is closed after the answer: the stuck code still holds the request, so the
        // connection cannot serve another one (HTTP/2 streams are independent and need no such thing).
        var outcome = Answer(closeConnection: true);
        SlotFreed = _pool.GiveUp(_worker, _timeout, outcome);
        if (outcome == TimeoutOutcome.Answered)
        {
            _ = SendNowAsync(_context.Response);
        }
    }

    /// <summary>Sends the answer now rather than when the stuck code returns.</summary>
    private static async Task SendNowAsync(HttpResponse response)
    {
        try
        {
            await response.CompleteAsync();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            // The client is gone, or the stuck code raced us to the response: nothing more to send.
        }
    }
}
