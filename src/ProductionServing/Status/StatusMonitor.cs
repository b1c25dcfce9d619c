using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ProductionServing.Configuration;
using ProductionServing.Diagnostics;
using ProductionServing.Pools;
using ProductionServing.Proxy;
using ProductionServing.Routing;
using ProductionServing.Static;

namespace ProductionServing.Status;

/// <summary>
/// The status page's live side: it starts (once) when a configuration with <c>Status</c> comes into
/// force, and then counts through a <see cref="StatusMeterListener"/>, samples the pools, servers and
/// locations every second on the host's <see cref="TimeProvider"/> for the sparklines, and keeps each
/// location's recent failed and slow requests. Stopped when the host's services are disposed.
/// </summary>
internal sealed class StatusMonitor : IDisposable
{
    private static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);

    private readonly ServingMetrics _metrics;
    private readonly Lock _lock = new();
    private StatusMeterListener? _listener;
    private ITimer? _timer;
    private volatile bool _running;
    private bool _disposed;
    private int _sampling;

    public StatusMonitor(ServingMetrics metrics, PoolRegistry pools, UpstreamRegistry upstreams, FileCacheBudget cacheBudget, TimeProvider time)
    {
        _metrics = metrics;
        Pools = pools;
        Upstreams = upstreams;
        CacheBudget = cacheBudget;
        Time = time;
        MsPerTick = 1000.0 / time.TimestampFrequency;
    }

    /// <summary>The figures since the status page (last) came into force.</summary>
    public StatusFigures Figures { get; private set; } = new();

    public PoolRegistry Pools { get; }

    public UpstreamRegistry Upstreams { get; }

    public FileCacheBudget CacheBudget { get; }

    public TimeProvider Time { get; }

    /// <summary>Milliseconds per <see cref="TimeProvider"/> timestamp unit.</summary>
    public double MsPerTick { get; }

    /// <summary>When the monitor started (wall clock), or null while it has not.</summary>
    public DateTimeOffset? Started { get; private set; }

    /// <summary>Whether it counts: a configuration with the status page has been in force.</summary>
    public bool IsRunning => _running;

    /// <summary>
    /// Follows a configuration coming into force: starts counting when one has the status page (afresh),
    /// stops when one has not, and forgets the figures of locations, pools and servers it no longer has.
    /// </summary>
    public void Follow(ServingSnapshot snapshot)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (!_running && snapshot.Status is not null)
            {
                Figures = new StatusFigures();
                Started = Time.GetUtcNow();
                _listener = new StatusMeterListener(_metrics.Meter, Figures);
                _timer = Time.CreateTimer(static state => ((StatusMonitor)state!).Sample(), this, SampleInterval, SampleInterval);
                _running = true;
            }
            else if (_running && snapshot.Status is null)
            {
                Stop();
            }

            if (_running)
            {
                Retain(snapshot);
            }
        }
    }

    /// <summary>
    /// A request has ended (the seam in <see cref="RequestObserver"/>): a failed one is kept among its
    /// location's failed requests and the recent errors; one slower than the location's slowest kept ones
    /// joins them. Any other request reads two fields and returns, without a lock or an allocation.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="location">The location that served it, or null.</param>
    /// <param name="statusCode">Its status.</param>
    /// <param name="errorType">Its <c>error.type</c>, or null.</param>
    /// <param name="durationTicks">Its duration in <see cref="TimeProvider"/> timestamp units.</param>
    /// <param name="record">Where its time went.</param>
    public void Observe(HttpContext context, ServingLocation? location, int statusCode, string? errorType, long durationTicks, RequestRecord record)
    {
        if (!_running || Figures.Location(location?.Match) is not { } figures)
        {
            return;
        }

        // Failed: a 5xx, or an error that a 2xx or 3xx hides (the client or the upstream went away
        // mid-response). A 4xx is the client's mistake (404, 405, …) and is counted, not listed.
        var failed = statusCode >= 500 || (errorType is not null && statusCode < 400);
        var slow = figures.Recent.IsSlow(durationTicks);
        if (!failed && !slow)
        {
            return;
        }

        var request = Describe(context, location, statusCode, errorType, durationTicks, record);
        if (failed)
        {
            figures.Recent.AddFailed(request);
            Figures.AddError(request);
        }

        if (slow)
        {
            figures.Recent.OfferSlow(request);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            Stop();
        }
    }

    /// <summary>Stops counting and sampling: no instrument stays enabled on the page's account (call under the lock).</summary>
    private void Stop()
    {
        _running = false;
        _timer?.Dispose();
        _listener?.Dispose();
        _timer = null;
        _listener = null;
    }

    private RecentRequest Describe(HttpContext context, ServingLocation? location, int statusCode, string? errorType, long durationTicks, RequestRecord record)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var path = RequestPath.PathPart(raw);
        if (path.IsEmpty)
        {
            path = context.Request.Path.Value;
        }

        var attempts = new RecentAttempt[record.Attempts.Length];
        for (var i = 0; i < attempts.Length; i++)
        {
            attempts[i] = RecentAttempt.From(record.Attempts[i], MsPerTick);
        }

        var activity = Activity.Current;
        var traceId = activity is { IdFormat: ActivityIdFormat.W3C } && activity.TraceId != default ? activity.TraceId.ToHexString() : null;
        return new RecentRequest(
            Time.GetTimestamp(),
            Time.GetUtcNow(),
            location?.Match,
            context.Request.Method,
            path.Length > RecentRequest.MaxPathLength ? path[..RecentRequest.MaxPathLength].ToString() : path.ToString(),
            statusCode,
            errorType,
            durationTicks,
            durationTicks * MsPerTick,
            record.QueueWaitTicks < 0 ? null : record.QueueWaitTicks * MsPerTick,
            attempts,
            traceId);
    }

    /// <summary>The sampler's tick: each pool's busy and queued requests, each server's in-flight requests and response time, each location's rate.</summary>
    private void Sample()
    {
        // A tick that outlasts the interval (a stalled machine) is not overlapped by the next one.
        if (Interlocked.Exchange(ref _sampling, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (var pool in Pools.Pools)
            {
                Figures.Pool(pool.Name)?.Sample(pool.Running, pool.QueueLength);
            }

            foreach (var group in Upstreams.Groups)
            {
                foreach (var server in group.Servers)
                {
                    Figures.Server(group.Name, server.Name)?.Sample(server.ActiveRequests);
                }
            }

            var expired = Time.GetTimestamp() - (long)(RecentRequests.SlowWindow.TotalSeconds * Time.TimestampFrequency);
            foreach (var (_, location) in Figures.Locations)
            {
                location.Sample();
                location.Recent.Expire(expired);
            }
        }
        finally
        {
            Volatile.Write(ref _sampling, 0);
        }
    }

    private void Retain(ServingSnapshot snapshot)
    {
        var locations = new HashSet<string>(StringComparer.Ordinal) { "@app" };
        foreach (var location in snapshot.Locations)
        {
            if (location.Feature.Match is { } match)
            {
                locations.Add(match);
            }
        }

        var pools = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pool in Pools.Pools)
        {
            pools.Add(pool.Name);
        }

        var servers = new HashSet<(string, string)>(StatusFigures.ServerKeys);
        foreach (var group in Upstreams.Groups)
        {
            foreach (var server in group.Servers)
            {
                servers.Add((group.Name, server.Name));
            }
        }

        Figures.Retain(locations, pools, servers);
    }
}
