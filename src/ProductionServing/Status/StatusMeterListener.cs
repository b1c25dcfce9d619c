using System.Diagnostics.Metrics;
using ProductionServing.Diagnostics;

namespace ProductionServing.Status;

/// <summary>
/// Listens to the instruments of this app's <c>ProductionServing</c> meter (the host's
/// <see cref="ServingMetrics.Meter"/>, not another host's of the same name in the process) and adds
/// their measurements into <see cref="StatusFigures"/>, by their tags (<see cref="ServingMetrics"/>'s tag names).
/// Started only when the status page is configured: until then no instrument is enabled on its account.
/// </summary>
/// <remarks>
/// An instrument that another part of the library has not published yet is simply never seen; one
/// published later (a pool's first use, say) is enabled when it appears. Observable instruments are not
/// enabled: the live values they report (queue lengths, health, in-flight) are read from the registries
/// when the page asks, which costs nothing between asks.
/// </remarks>
internal sealed class StatusMeterListener : IDisposable
{
    private readonly MeterListener _listener;

    public StatusMeterListener(Meter meter, StatusFigures figures)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && KindOf(instrument.Name) is { } kind)
                {
                    listener.EnableMeasurementEvents(instrument, new Measured(kind, figures));
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((Measured)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((Measured)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((Measured)state!).Record(value, tags));
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    private static Kind? KindOf(string name) => name switch
    {
        "production_serving.request.duration" => Kind.RequestDuration,
        "production_serving.static.cache.requests" => Kind.CacheRequests,
        "production_serving.pool.rejections" => Kind.PoolRejections,
        "production_serving.pool.queue.duration" => Kind.PoolQueueDuration,
        "production_serving.pool.request_timeouts" => Kind.PoolRequestTimeouts,
        "production_serving.pool.workers.replaced" => Kind.PoolWorkersReplaced,
        "production_serving.upstream.attempts" => Kind.UpstreamAttempts,
        "production_serving.upstream.duration" => Kind.UpstreamDuration,
        "production_serving.upstream.rejections" => Kind.UpstreamRejections,
        _ => null,
    };

    private enum Kind
    {
        RequestDuration,
        CacheRequests,
        PoolRejections,
        PoolQueueDuration,
        PoolRequestTimeouts,
        PoolWorkersReplaced,
        UpstreamAttempts,
        UpstreamDuration,
        UpstreamRejections,
    }

    /// <summary>The tags of one measurement that the figures use.</summary>
    private ref struct Tags
    {
        public string? Location;
        public string? Pool;
        public string? Upstream;
        public string? Server;
        public string? ErrorType;
        public string? CacheResult;
        public int StatusCode;

        public static Tags Read(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var read = default(Tags);
            foreach (var (key, value) in tags)
            {
                switch (key)
                {
                    case ServingMetrics.LocationTag: read.Location = value as string; break;
                    case ServingMetrics.PoolTag: read.Pool = value as string; break;
                    case ServingMetrics.UpstreamTag: read.Upstream = value as string; break;
                    case ServingMetrics.UpstreamServerTag: read.Server = value as string; break;
                    case ServingMetrics.ErrorTypeTag: read.ErrorType = value as string; break;
                    case ServingMetrics.CacheResultTag: read.CacheResult = value as string; break;
                    case ServingMetrics.StatusCodeTag: read.StatusCode = value is int code ? code : 0; break;
                }
            }

            return read;
        }
    }

    /// <summary>One enabled instrument: what it measures, and where its measurements go.</summary>
    private sealed class Measured(Kind kind, StatusFigures figures)
    {
        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tagSpan)
        {
            var tags = Tags.Read(tagSpan);
            switch (kind)
            {
                case Kind.RequestDuration:
                    figures.Location(tags.Location)?.Count(tags.StatusCode, tags.ErrorType is not null, value);
                    break;
                case Kind.CacheRequests:
                    figures.CacheLookup(tags.CacheResult == "hit", (long)value);
                    break;
                case Kind.PoolRejections when tags.Pool is not null:
                    figures.Pool(tags.Pool)?.Reject(tags.ErrorType, (long)value);
                    break;
                case Kind.PoolQueueDuration when tags.Pool is not null:
                    figures.Pool(tags.Pool)?.Waited(value);
                    break;
                case Kind.PoolRequestTimeouts when tags.Pool is not null:
                    figures.Pool(tags.Pool)?.TimedOut((long)value);
                    break;
                case Kind.PoolWorkersReplaced when tags.Pool is not null:
                    figures.Pool(tags.Pool)?.Replaced((long)value);
                    break;
                case Kind.UpstreamAttempts when tags.Upstream is not null && tags.Server is not null:
                    figures.Server(tags.Upstream, tags.Server)?.Attempted(tags.ErrorType, (long)value);
                    break;
                case Kind.UpstreamDuration when tags.Upstream is not null && tags.Server is not null:
                    figures.Server(tags.Upstream, tags.Server)?.Timed(value);
                    break;
                case Kind.UpstreamRejections when tags.Upstream is not null:
                    figures.Group(tags.Upstream)?.Add(tags.ErrorType, (long)value);
                    break;
            }
        }
    }
}
