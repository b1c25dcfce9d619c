namespace ProductionServing.Soak;

/// <summary>
/// Requests counted by load kind and <see cref="Outcome"/>, written by every worker with
/// <see cref="Interlocked"/>, read by the sampler as running totals; and the first few error messages,
/// so a failed soak says what failed.
/// </summary>
internal sealed class Counters
{
    public const int Outcomes = (int)Outcome.ErrorOther + 1;

    private const int MaxMessages = 20;

    private readonly long[] _counts;
    private readonly List<string> _messages = [];
    private long _droppedMessages;

    public Counters(IReadOnlyList<string> kinds)
    {
        Kinds = kinds;
        _counts = new long[kinds.Count * Outcomes];
    }

    public IReadOnlyList<string> Kinds { get; }

    public void Add(int kind, Outcome outcome, string? message = null)
    {
        Interlocked.Increment(ref _counts[(kind * Outcomes) + (int)outcome]);
        if (message is null)
        {
            return;
        }

        lock (_messages)
        {
            if (_messages.Count < MaxMessages)
            {
                _messages.Add($"{DateTime.UtcNow:HH:mm:ss} {Kinds[kind]}: {outcome}: {message}");
            }
            else
            {
                _droppedMessages++;
            }
        }
    }

    /// <summary>A copy of the running totals, indexed <c>[kind * Outcomes + outcome]</c>.</summary>
    public long[] Snapshot()
    {
        var copy = new long[_counts.Length];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = Interlocked.Read(ref _counts[i]);
        }

        return copy;
    }

    public IReadOnlyList<string> Messages(out long dropped)
    {
        lock (_messages)
        {
            dropped = _droppedMessages;
            return [.. _messages];
        }
    }

    /// <summary>The total of <paramref name="outcome"/> over every kind, from a <see cref="Snapshot"/>.</summary>
    public static long Sum(long[] snapshot, Outcome outcome)
    {
        long sum = 0;
        for (var i = (int)outcome; i < snapshot.Length; i += Outcomes)
        {
            sum += snapshot[i];
        }

        return sum;
    }
}
