using Microsoft.Extensions.Logging.Testing;

namespace ProductionServing.Tests.Infrastructure;

internal static class FakeLogCollectorExtensions
{
    /// <summary>
    /// The first record with <paramref name="eventId"/>, waiting for it (bounded) when the request that
    /// logs it finishes on its own after the client has seen the outcome.
    /// </summary>
    public static async Task<FakeLogRecord> WaitForEventAsync(this FakeLogCollector logs, int eventId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            foreach (var record in logs.GetSnapshot())
            {
                if (record.Id.Id == eventId)
                {
                    return record;
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token);
            }
            catch (OperationCanceledException)
            {
                var seen = string.Join(Environment.NewLine, logs.GetSnapshot().Select(r => $"{r.Id.Id} {r.Level}: {r.Message}"));
                throw new Xunit.Sdk.XunitException($"No log event {eventId} within 10 s; logged:{Environment.NewLine}{seen}");
            }
        }
    }
}
