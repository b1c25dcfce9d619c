using Microsoft.Extensions.Logging.Testing;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// Log assertions on what the project's log contract fixes, the event id and the structured fields
/// (docs/operating.md, "Logging"), never on the prose of a message.
/// </summary>
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
    public static bool HasEvent(this FakeLogCollector logs, int eventId, string field, string value) =>
        Find(logs, eventId, field, value) is not null;

    /// <summary>
    /// The first record with <paramref name="eventId"/> (and, when given, whose <paramref name="field"/> is
    /// <paramref name="value"/>), waiting for it (bounded) when the request that logs it finishes on its own
    /// after the client has seen the outcome.
    /// </summary>
    public static Task<FakeLogRecord> WaitForEventAsync(this FakeLogCollector logs, int eventId, string? field = null, string? value = null) =>
        Poll.ForAsync(() => Find(logs, eventId, field, value),
            field is null ? $"log event {eventId} is written" : $"log event {eventId} with {field} {value} is written",
            () => Describe(logs));

    private static FakeLogRecord? Find(FakeLogCollector logs, int eventId, string? field, string? value)
    {
        foreach (var record in logs.GetSnapshot())
        {
            if (record.Id.Id == eventId && (field is null || record.Field(field) == value))
            {
                return record;
            }
        }

        return null;
    }

    private static string Describe(FakeLogCollector logs) =>
        string.Join(Environment.NewLine, logs.GetSnapshot().Select(r => $"{r.Id.Id} {r.Level}: {r.Message}"));
}
