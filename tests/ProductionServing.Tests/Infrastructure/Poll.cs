namespace ProductionServing.Tests.Infrastructure;

/// <summary>Waits for background state under a bound, as STYLE §7 allows: never a sleep standing in for a signal.</summary>
internal static class Poll
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Polls (every few ms, at most 10 s) until <paramref name="condition"/> holds.</summary>
    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    /// <summary>Polls (every few ms, at most 10 s) until <paramref name="condition"/> (an HTTP request, say) holds.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (!await condition())
        {
            try
            {
                await Task.Delay(5, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting until {what}.");
            }
        }
    }
}
