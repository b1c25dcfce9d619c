using Microsoft.AspNetCore.Http;

namespace ProductionServing.Pools;

/// <summary>
/// A pool's <c>RequestTimeout</c> for one request. When it passes, <c>HttpContext.RequestAborted</c> is
/// canceled (as ASP.NET Core's request timeouts middleware does); if the app is still running
/// <see cref="AbandonGrace"/> later, the pool gives up on it from the timer's thread (the request's own
/// thread may be the one stuck), and <see cref="Abandoned"/> completes. Either the app's end
/// (<see cref="TryFinish"/>) or the abandonment wins, never both.
/// </summary>
internal sealed class RequestDeadline : IDisposable
{
    private const int Running = 0;
    private const int Canceled = 1;
    private const int Gone = 2;
    private const int Finished = 3;

    /// <summary>
    /// How long the app gets to honour the cancellation before it counts as stuck. Long enough for code
    /// that observes the token to unwind, so it is never answered for under its feet.
    /// </summary>
    public static readonly TimeSpan AbandonGrace = TimeSpan.FromSeconds(1);

    private readonly HttpContext _context;
    private readonly CancellationToken _original;
    private readonly CancellationTokenSource _source;
    private readonly ITimer _timer;
    private readonly TaskCompletionSource _abandoned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<RequestDeadline> _abandon;
    private int _stage;
    private bool _timedOut;

    public RequestDeadline(HttpContext context, TimeSpan timeout, TimeProvider time, Action<RequestDeadline> abandon)
    {
        _context = context;
        _abandon = abandon;
        _original = context.RequestAborted;
        _source = CancellationTokenSource.CreateLinkedTokenSource(_original);
        context.RequestAborted = _source.Token;
        _timer = time.CreateTimer(static s => ((RequestDeadline)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(timeout, Timeout.InfiniteTimeSpan);
    }

    public HttpContext Context => _context;

    /// <summary>Whether the timeout passed (and the request's token was canceled by it).</summary>
    public bool TimedOut => Volatile.Read(ref _timedOut);

    /// <summary>Whether the client itself went away.</summary>
    public bool ClientGone => _original.IsCancellationRequested;

    /// <summary>Completes once the pool has given up on the app (answered for it and freed its slot).</summary>
    public Task Abandoned => _abandoned.Task;

    /// <summary>Called when the app's task ended: <see langword="false"/> when the pool already gave up on it.</summary>
    public bool TryFinish()
    {
        var stage = Volatile.Read(ref _stage);
        while (stage != Gone)
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
        else if (Interlocked.CompareExchange(ref _stage, Gone, Canceled) == Canceled)
        {
            try
            {
                _abandon(this);
            }
            finally
            {
                _abandoned.TrySetResult();
            }
        }
    }
}
