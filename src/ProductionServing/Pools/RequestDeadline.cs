using Microsoft.AspNetCore.Http;

namespace ProductionServing.Pools;

/// <summary>
/// A pool's <c>RequestTimeout</c> for one request. When it passes, <c>HttpContext.RequestAborted</c> is
/// canceled (as ASP.NET Core's request timeouts middleware does); if the app is still running
/// <see cref="AbandonGrace"/> later, <see cref="Abandoned"/> completes and the pool gives up on it.
/// </summary>
internal sealed class RequestDeadline : IDisposable
{
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
    private int _stage; // 0 running, 1 timed out (token canceled), 2 abandoned

    public RequestDeadline(HttpContext context, TimeSpan timeout, TimeProvider time)
    {
        _context = context;
        _original = context.RequestAborted;
        _source = CancellationTokenSource.CreateLinkedTokenSource(_original);
        context.RequestAborted = _source.Token;
        _timer = time.CreateTimer(static s => ((RequestDeadline)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Whether the timeout passed (and the request's token was canceled by it).</summary>
    public bool TimedOut => Volatile.Read(ref _stage) >= 1;

    /// <summary>Whether the client itself went away.</summary>
    public bool ClientGone => _original.IsCancellationRequested;

    /// <summary>Completes when the app is still running <see cref="AbandonGrace"/> after the timeout.</summary>
    public Task Abandoned => _abandoned.Task;

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
        if (Interlocked.CompareExchange(ref _stage, 1, 0) == 0)
        {
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
        else if (Interlocked.CompareExchange(ref _stage, 2, 1) == 1)
        {
            _abandoned.TrySetResult();
        }
    }
}
