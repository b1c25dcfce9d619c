using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using ProductionServing.Proxy;

namespace ProductionServing.Diagnostics;

/// <summary>
/// The upstream instruments: one count and duration per attempt at a server (nginx's <c>$upstream_*</c>
/// variables as histograms), the requests no server was given to, and each server's health and load.
/// </summary>
/// <remarks>
/// <c>System.Net.Http</c> already measures the upstream connections (<c>http.client.open_connections</c>,
/// <c>http.client.connection.duration</c>) and its own view of each request
/// (<c>http.client.request.duration</c>, by <c>server.address</c>); those know neither the group, nor the
/// configured server a balancer picked, nor why an attempt failed in our vocabulary (a read timeout and a
/// client that went away are both a cancellation to it), nor the time to the end of the body.
/// </remarks>
internal sealed partial class ServingMetrics
{
    /// <summary>The tag of an upstream server: its configured address as <c>host:port</c> (<see cref="UpstreamServer.Name"/>, as the logs name it).</summary>
    public const string UpstreamServerTag = "production_serving.upstream.server";

    private Counter<long> _upstreamAttempts;
    private Histogram<double> _upstreamDuration;
    private Histogram<double> _upstreamHeaderDuration;
    private Histogram<double> _upstreamConnectDuration;
    private Counter<long> _upstreamRejections;
    private int _upstreamsObserved;

    /// <summary>Whether an attempt's times are wanted by any instrument: if not, attempts are not timed (the request record aside).</summary>
    public bool UpstreamAttemptsObserved =>
        _upstreamAttempts.Enabled || _upstreamDuration.Enabled || _upstreamHeaderDuration.Enabled || _upstreamConnectDuration.Enabled;

    [MemberNotNull(nameof(_upstreamAttempts), nameof(_upstreamDuration), nameof(_upstreamHeaderDuration), nameof(_upstreamConnectDuration),
        nameof(_upstreamRejections))]
    private void CreateUpstreamInstruments()
    {
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };
        _upstreamAttempts = Meter.CreateCounter<long>(
            "production_serving.upstream.attempts",
            unit: "{attempt}",
            description: "Attempts at an upstream server (one more than the retries of a request), with the status the server answered or why the attempt failed.");
        _upstreamDuration = Meter.CreateHistogram(
            "production_serving.upstream.duration",
            unit: "s",
            description: "Time of one attempt at an upstream server, from its start to the end of the response body or to its failure (nginx's $upstream_response_time).",
            advice: advice);
        _upstreamHeaderDuration = Meter.CreateHistogram(
            "production_serving.upstream.header.duration",
            unit: "s",
            description: "Time from an attempt's start to the upstream server's response headers (nginx's $upstream_header_time).",
            advice: advice);
        _upstreamConnectDuration = Meter.CreateHistogram(
            "production_serving.upstream.connect.duration",
            unit: "s",
            description: "Time to open a new TCP connection to an upstream server (a TLS handshake is not included); an attempt that reuses a connection records nothing (nginx's $upstream_connect_time).",
            advice: advice);
        _upstreamRejections = Meter.CreateCounter<long>(
            "production_serving.upstream.rejections",
            unit: "{request}",
            description: "Requests answered without an attempt, because no server of the group was up or all were at MaxConnections.");
    }

    /// <summary>
    /// Reports the servers of the groups <paramref name="registry"/> keeps, at each collection: so a server
    /// kept across a reload keeps its series, and a group a reload removed is no longer reported.
    /// </summary>
    /// <param name="registry">The registry of the upstream groups in force; the first one given is the one observed.</param>
    public void ObserveUpstreams(UpstreamRegistry registry)
    {
        if (Interlocked.Exchange(ref _upstreamsObserved, 1) != 0)
        {
            return;
        }

        Meter.CreateObservableGauge(
            "production_serving.upstream.server.healthy",
            () => ObserveServers(registry, health: true),
            unit: "{server}",
            description: "1 when an upstream server may take requests, 0 while passive (MaxFails) or active (HealthCheck) health keeps it out.");
        Meter.CreateObservableUpDownCounter(
            "production_serving.upstream.server.active_requests",
            () => ObserveServers(registry, health: false),
            unit: "{request}",
            description: "Requests holding an upstream server now (each counts against its MaxConnections).");
    }

    /// <summary>Records an attempt's response headers: <paramref name="headerTime"/> from its start.</summary>
    public void UpstreamHeadersReceived(UpstreamServer server, TimeSpan headerTime)
    {
        if (_upstreamHeaderDuration.Enabled)
        {
            _upstreamHeaderDuration.Record(headerTime.TotalSeconds,
                new KeyValuePair<string, object?>(UpstreamTag, server.Group), new KeyValuePair<string, object?>(UpstreamServerTag, server.Name));
        }
    }

    /// <summary>Records a new connection to <paramref name="server"/>, opened in <paramref name="connectTime"/>.</summary>
    public void UpstreamConnected(UpstreamServer server, TimeSpan connectTime)
    {
        if (_upstreamConnectDuration.Enabled)
        {
            _upstreamConnectDuration.Record(connectTime.TotalSeconds,
                new KeyValuePair<string, object?>(UpstreamTag, server.Group), new KeyValuePair<string, object?>(UpstreamServerTag, server.Name));
        }
    }

    /// <summary>Records an attempt's end: its response body sent, or its failure.</summary>
    /// <param name="server">The server tried.</param>
    /// <param name="statusCode">The status the server answered, or 0 when no response came.</param>
    /// <param name="errorType">Why the attempt failed (<see cref="ErrorTypes"/>), or null.</param>
    /// <param name="duration">From the attempt's start to its end.</param>
    public void UpstreamAttemptEnded(UpstreamServer server, int statusCode, string? errorType, TimeSpan duration)
    {
        if (_upstreamAttempts.Enabled || _upstreamDuration.Enabled)
        {
            UpstreamAttemptEndedCore(server, statusCode, errorType, duration);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void UpstreamAttemptEndedCore(UpstreamServer server, int statusCode, string? errorType, TimeSpan duration)
    {
        var tags = new TagList
        {
            { UpstreamTag, server.Group },
            { UpstreamServerTag, server.Name },
        };
        if (errorType is not null)
        {
            tags.Add(ErrorTypeTag, errorType);
        }

        // The duration's tags are the attempt's without the status: a histogram per status code would
        // multiply its series, and the status's share is the counter's to tell.
        _upstreamDuration.Record(duration.TotalSeconds, tags);
        if (statusCode != 0)
        {
            tags.Add(StatusCodeTag, StatusCodes.Boxed(statusCode));
        }

        _upstreamAttempts.Add(1, tags);
    }

    /// <summary>Counts a request of group <paramref name="upstream"/> answered without an attempt (<c>no_healthy_server</c>, <c>max_conns</c>, <c>max_conns_timeout</c>).</summary>
    public void UpstreamRejected(string upstream, string errorType)
    {
        if (_upstreamRejections.Enabled)
        {
            _upstreamRejections.Add(1, new KeyValuePair<string, object?>(UpstreamTag, upstream), new KeyValuePair<string, object?>(ErrorTypeTag, errorType));
        }
    }

    private static List<Measurement<int>> ObserveServers(UpstreamRegistry registry, bool health)
    {
        var now = registry.Time.GetTimestamp();
        var measurements = new List<Measurement<int>>();
        foreach (var group in registry.Groups)
        {
            foreach (var server in group.Servers)
            {
                var value = health ? (server.IsUp(now) ? 1 : 0) : server.ActiveRequests;
                measurements.Add(new Measurement<int>(value,
                    new KeyValuePair<string, object?>(UpstreamTag, server.Group), new KeyValuePair<string, object?>(UpstreamServerTag, server.Name)));
            }
        }

        return measurements;
    }
}
