using Microsoft.Extensions.Logging.Testing;

namespace ProductionServing.Tests.Infrastructure;

internal static class FakeLogCollectorExtensions
{
    /// <summary>The value of a structured field (a message placeholder, such as <c>Upstream</c>), as logged; null when absent.</summary>
    public static string? Field(this FakeLogRecord record, string name)
    {
        if (record.StructuredState is { } state)
        {
            foreach (var (key, value) in state)
            {
                if (key == name)
                {
                    return value;
                }
            }
        }

        return null;
    }

    /// <summary>Whether a record with <paramref name="eventId"/> whose <paramref name="field"/> is <paramref name="value"/> was logged.</summary>
    public static bool HasEvent(this FakeLogCollector logs, int eventId, string field, string value)
    {
        foreach (var record in logs.GetSnapshot())
        {
            if (record.Id.Id == eventId && record.Field(field) == value)
            {
                return true;
            }
        }

        return false;
    }

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
