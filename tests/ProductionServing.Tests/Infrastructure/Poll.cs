namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// Waits for background state that raises no signal (a log record written after the response, a counter,
/// a file watcher's notice), checking every few milliseconds under a bound: never a sleep standing in for
/// a signal.
/// </summary>
internal static class Poll
{
    private static readonly object Found = new();

    /// <summary>Polls until <paramref name="condition"/> holds, for at most <see cref="TestTimeouts.Wait"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, string what) =>
        ForAsync(() => condition() ? Found : null, what);

    /// <summary>
    /// Polls until <paramref name="condition"/> (an HTTP request, say) holds, for at most <paramref name="within"/>
    /// (<see cref="TestTimeouts.Wait"/> when not given).
    /// </summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null) =>
        ForAsync(async () => await condition() ? Found : null, what, seen: null, within);

    /// <summary>
    /// Polls until <paramref name="find"/> finds something, and returns it. On timeout the failure names
    /// <paramref name="what"/> and, when given, what <paramref name="seen"/> describes instead.
    /// </summary>
    public static Task<T> ForAsync<T>(Func<T?> find, string what, Func<string>? seen = null)
        where T : class =>
        ForAsync(() => Task.FromResult(find()), what, seen, within: null);

    private static async Task<T> ForAsync<T>(Func<Task<T?>> find, string what, Func<string>? seen, TimeSpan? within)
        where T : class
    {
        var bound = within ?? TestTimeouts.Wait;
        using var timeout = new CancellationTokenSource(bound);
        while (true)
        {
            if (await find() is { } found)
            {
                return found;
            }

            try
            {
                await Task.Delay(5, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                var instead = seen is null ? "" : Environment.NewLine + "Seen instead:" + Environment.NewLine + seen();
                throw new Xunit.Sdk.XunitException($"Timed out after {bound.TotalSeconds:0} s waiting until {what}.{instead}");
            }
        }
    }
}
