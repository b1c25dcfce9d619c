namespace ProductionServing.Proxy;

/// <summary>
/// The <c>ReadTimeout</c> of one attempt, on the attempt's cancellation source. As nginx's
/// proxy_read_timeout and proxy_send_timeout, it bounds each wait for the upstream (a read of its
/// response, a write of the request body it does not take) rather than the whole exchange, and it is
/// stopped while the proxy waits for the client: a slow client must not pass for a stalled upstream
/// (that would answer 504, abort the response and count a failure against a healthy server).
/// </summary>
internal readonly struct UpstreamReadTimer(CancellationTokenSource source, TimeSpan timeout)
{
    /// <summary>Starts a full <c>ReadTimeout</c> from now.</summary>
    public void Restart() => Change(timeout);

    /// <summary>Stops the countdown until the next <see cref="Restart"/>.</summary>
    public void Stop() => Change(Timeout.InfiniteTimeSpan);

    private void Change(TimeSpan dueTime)
    {
        try
        {
            // Reuses the source's timer (its TimeProvider's); a no-op once it has fired.
            source?.CancelAfter(dueTime);
        }
        catch (ObjectDisposedException)
        {
            // The attempt is over (a request body can still be finishing after a failed send).
        }
    }
}
