namespace ProductionServing.Status;

/// <summary>
/// The last samples of one figure, one a second (the sparklines' data): a fixed array written by the
/// sampler and copied out by <c>status.json</c>, never touched by a request.
/// </summary>
internal sealed class SampleRing(int capacity)
{
    private readonly Lock _lock = new();
    private readonly double[] _values = new double[capacity];
    private int _next;
    private int _count;

    /// <summary>Adds a sample, dropping the oldest once full; <see cref="double.NaN"/> stands for "nothing to measure" (written as null).</summary>
    public void Add(double value)
    {
        lock (_lock)
        {
            _values[_next] = value;
            _next = (_next + 1) % _values.Length;
            _count = Math.Min(_count + 1, _values.Length);
        }
    }

    /// <summary>The samples, oldest first.</summary>
    public double[] ToArray()
    {
        lock (_lock)
        {
            var copy = new double[_count];
            var start = (_next - _count + _values.Length) % _values.Length;
            for (var i = 0; i < _count; i++)
            {
                copy[i] = _values[(start + i) % _values.Length];
            }

            return copy;
        }
    }

    /// <summary>The mean of the last <paramref name="last"/> samples that are numbers, or NaN when there is none.</summary>
    public double Mean(int last)
    {
        lock (_lock)
        {
            var sum = 0.0;
            var n = 0;
            for (var i = 1; i <= Math.Min(last, _count); i++)
            {
                var value = _values[(_next - i + _values.Length) % _values.Length];
                if (!double.IsNaN(value))
                {
                    sum += value;
                    n++;
                }
            }

            return n == 0 ? double.NaN : sum / n;
        }
    }
}
