namespace ProductionServing.Status;

/// <summary>
/// One location's figures since the status page started: requests by status class (from
/// <c>production_serving.request.duration</c>), the request rate each second, and its recent trouble.
/// </summary>
internal sealed class LocationFigures
{
    private readonly long[] _classes = new long[5];
    private long _requests;
    private long _errors;
    private long _durationMicroseconds;
    private long _sampled;

    /// <summary>Requests each second, the last <see cref="StatusFigures.LocationHistory"/> seconds.</summary>
    public SampleRing Rate { get; } = new(StatusFigures.LocationHistory);

    public RecentRequests Recent { get; } = new();

    public long Requests => Volatile.Read(ref _requests);

    /// <summary>Requests that ended with an <c>error.type</c>.</summary>
    public long Errors => Volatile.Read(ref _errors);

    /// <summary>The mean duration in milliseconds, or NaN before the first request.</summary>
    public double MeanDurationMs => Requests == 0 ? double.NaN : Volatile.Read(ref _durationMicroseconds) / 1000.0 / Requests;

    /// <summary>Requests answered 1xx, 2xx, 3xx, 4xx and 5xx.</summary>
    public long Class(int hundreds) => Volatile.Read(ref _classes[hundreds - 1]);

    /// <summary>Counts a request's end (a measurement of the request duration histogram).</summary>
    public void Count(int statusCode, bool failed, double seconds)
    {
        Interlocked.Increment(ref _requests);
        if ((uint)(statusCode / 100 - 1) < 5)
        {
            Interlocked.Increment(ref _classes[statusCode / 100 - 1]);
        }

        if (failed)
        {
            Interlocked.Increment(ref _errors);
        }

        Interlocked.Add(ref _durationMicroseconds, (long)(seconds * 1_000_000));
    }

    /// <summary>The sampler's tick: the requests of the last second.</summary>
    public void Sample()
    {
        var requests = Requests;
        Rate.Add(requests - _sampled);
        _sampled = requests;
    }
}
