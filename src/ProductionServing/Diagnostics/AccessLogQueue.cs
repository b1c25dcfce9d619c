namespace ProductionServing.Diagnostics;

/// <summary>
/// The file writer's bounded queue: lines are copied, newline included, into 64 KiB segments that the writer
/// takes whole and writes with one call each, then hands back for reuse, so a line costs a copy under a lock
/// and no allocation. At most <c>capacity</c> lines wait, and at most <see cref="MaxBytesFor"/> bytes of them
/// (a line can be as long as the request's headers allow); past that <see cref="TryAdd"/> answers
/// <see cref="AddResult.Full"/> and the line is dropped. A line wakes the writer only when it waits for one.
/// </summary>
internal sealed class AccessLogQueue(int capacity) : IDisposable
{
    public const int SegmentSize = 64 * 1024;

    private readonly long _maxBytes = MaxBytesFor(capacity);

    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly List<Segment> _full = [];
    private readonly Stack<byte[]> _free = new();
    private byte[]? _current;
    private int _currentLength;
    private int _currentLines;
    private int _count;
    private long _bytes;
    private bool _waiting;
    private bool _completed;

    public enum AddResult
    {
        Added,
        Full,
        Completed,
    }

    /// <summary>Queues a copy of <paramref name="line"/> and a newline.</summary>
    public AddResult TryAdd(ReadOnlySpan<byte> line)
    {
        var length = line.Length + 1;
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return AddResult.Completed;
            }

            if (_count >= capacity || _bytes + length > _maxBytes)
            {
                return AddResult.Full;
            }

            if (_current is null || _current.Length - _currentLength < length)
            {
                if (_current is not null)
                {
                    _full.Add(new Segment(_current, _currentLength, _currentLines));
                }

                // A line longer than a segment (a huge header) gets an array of its own, not kept for reuse.
                _current = length <= SegmentSize && _free.TryPop(out var free) ? free : new byte[Math.Max(SegmentSize, length)];
                _currentLength = 0;
                _currentLines = 0;
            }

            line.CopyTo(_current.AsSpan(_currentLength));
            _current[_currentLength + line.Length] = (byte)'\n';
            _currentLength += length;
            _currentLines++;
            _count++;
            _bytes += length;
            wake = _waiting;
            _waiting = false;
        }

        if (wake)
        {
            _signal.Release();
        }

        return AddResult.Added;
    }

    /// <summary>
    /// Moves every queued line into <paramref name="batch"/>, waiting for one when there is none; false once
    /// the queue is completed and empty.
    /// </summary>
    public async ValueTask<bool> TakeAsync(List<Segment> batch)
    {
        while (true)
        {
            lock (_lock)
            {
                batch.AddRange(_full);
                _full.Clear();
                if (_currentLength > 0)
                {
                    batch.Add(new Segment(_current!, _currentLength, _currentLines));
                    _current = null;
                    _currentLength = 0;
                    _currentLines = 0;
                }

                _count = 0;
                _bytes = 0;
                if (batch.Count > 0)
                {
                    return true;
                }

                if (_completed)
                {
                    return false;
                }

                _waiting = true;
            }

            await _signal.WaitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Takes back the segments of a written batch for reuse, and empties it.</summary>
    public void Recycle(List<Segment> batch)
    {
        lock (_lock)
        {
            foreach (var segment in batch)
            {
                // Every segment is kept: there are never more than the queued and the written batch needed,
                // and the queue's bound in bytes bounds both.
                if (segment.Buffer.Length == SegmentSize)
                {
                    _free.Push(segment.Buffer);
                }
            }
        }

        batch.Clear();
    }

    /// <summary>Takes no more lines; the writer takes what is queued, then <see cref="TakeAsync"/> answers false.</summary>
    public void Complete()
    {
        bool wake;
        lock (_lock)
        {
            _completed = true;
            wake = _waiting;
            _waiting = false;
        }

        if (wake)
        {
            _signal.Release();
        }
    }

    /// <summary>The bytes <paramref name="capacity"/> lines may take while they wait: 1 KiB a line, at least four segments.</summary>
    public static long MaxBytesFor(int capacity) => Math.Max(capacity * 1024L, 4L * SegmentSize);

    /// <summary>Once the writer is done: after <see cref="Complete"/>, <see cref="TryAdd"/> never touches the signal.</summary>
    public void Dispose() => _signal.Dispose();

    /// <summary>Queued bytes: <see cref="Length"/> of <see cref="Buffer"/>, holding <see cref="Lines"/> whole lines.</summary>
    public readonly record struct Segment(byte[] Buffer, int Length, int Lines)
    {
        public ReadOnlyMemory<byte> Bytes => Buffer.AsMemory(0, Length);
    }
}
