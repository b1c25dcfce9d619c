using System.Text.Json;
using ProductionServing.Configuration;
using ProductionServing.Diagnostics;
using ProductionServing.Routing;
using ProductionServing.Static;

namespace ProductionServing.Status;

/// <summary>
/// <c>&lt;Path&gt;/status.json</c> (docs/observability.md, "Status page", documents each field): live state read from the
/// registries now (pool busy and queued, server health and in-flight, cache entries and bytes), counts
/// since the status page started, and the last seconds of history for the sparklines, oldest first.
/// Field names are snake_case and stable; a new field may be added, none is renamed.
/// </summary>
internal static class StatusDocument
{
    /// <summary>The schema's version: it changes only when a field changes meaning or goes.</summary>
    public const int Version = 1;

    /// <summary>The seconds over which <c>rate</c> and <c>response_ms</c> are averaged.</summary>
    private const int RecentSeconds = 10;

    public static void Write(Utf8JsonWriter json, ServingSnapshot snapshot, StatusEndpoint status, StatusMonitor monitor)
    {
        var now = monitor.Time.GetUtcNow();
        json.WriteStartObject();
        json.WriteNumber("version", Version);
        json.WriteString("time", now);
        json.WriteString("started", monitor.Started ?? now);
        json.WriteNumber("uptime_s", Math.Round((now - (monitor.Started ?? now)).TotalSeconds, 1));
        json.WriteNumber("sample_interval_s", 1);
        json.WriteString("status_path", status.Path);
        WritePools(json, monitor);
        WriteUpstreams(json, monitor);
        WriteCache(json, snapshot, monitor);
        WriteLocations(json, snapshot, monitor);
        json.WriteStartArray("recent_errors");
        foreach (var request in monitor.Figures.Errors())
        {
            WriteRequest(json, request);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WritePools(Utf8JsonWriter json, StatusMonitor monitor)
    {
        var pools = new List<Pools.WorkerPool>(monitor.Pools.Pools);
        pools.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        json.WriteStartArray("pools");
        foreach (var pool in pools)
        {
            var settings = pool.Settings;
            var figures = monitor.Figures.FindPool(pool.Name);
            json.WriteStartObject();
            json.WriteString("name", pool.Name);
            json.WriteNumber("busy", pool.Running);
            json.WriteNumber("queued", pool.QueueLength);
            json.WriteNumber("limit", settings.Limit);
            json.WriteNumber("queue_limit", settings.QueueLimit);
            json.WriteNumber("dedicated_threads", settings.Workers);
            json.WriteNumber("rejected", figures?.Rejected ?? 0);
            WriteReasons(json, "rejected_by_reason", figures?.RejectionsByReason());
            json.WriteNumber("request_timeouts", figures?.RequestTimeouts ?? 0);
            json.WriteNumber("workers_replaced", figures?.WorkersReplaced ?? 0);
            WriteNumber(json, "mean_wait_ms", figures?.MeanWaitMs ?? double.NaN);
            json.WriteStartObject("history");
            WriteSamples(json, "busy", figures?.Busy);
            WriteSamples(json, "queued", figures?.Queued);
            WriteSamples(json, "rejected", figures?.RejectedRate);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteUpstreams(Utf8JsonWriter json, StatusMonitor monitor)
    {
        var groups = new List<Proxy.UpstreamGroup>(monitor.Upstreams.Groups);
        groups.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var now = monitor.Time.GetTimestamp();
        json.WriteStartArray("upstreams");
        foreach (var group in groups)
        {
            var rejections = monitor.Figures.FindGroup(group.Name);
            json.WriteStartObject();
            json.WriteString("name", group.Name);
            json.WriteString("balancing", group.Policy.ToString());
            json.WriteNumber("queued", group.QueueLength);
            json.WriteNumber("rejected", rejections?.Total ?? 0);
            WriteReasons(json, "rejected_by_reason", rejections?.ByReason());
            json.WriteStartArray("servers");
            foreach (var server in group.Servers)
            {
                var measured = monitor.Figures.FindServer(group.Name, server.Name);
                json.WriteStartObject();
                json.WriteString("address", server.Name);
                json.WriteBoolean("backup", server.Backup);
                json.WriteNumber("weight", server.Weight);
                json.WriteNumber("max_connections", server.MaxConnections);
                json.WriteBoolean("healthy", server.IsUp(now));
                json.WriteNumber("in_flight", server.ActiveRequests);
                json.WriteNumber("attempts", measured?.Attempts ?? 0);
                json.WriteNumber("failures", measured?.Failures ?? 0);
                WriteReasons(json, "failures_by_reason", measured?.FailuresByReason());
                WriteNumber(json, "response_ms", measured?.ResponseTime.Mean(RecentSeconds) ?? double.NaN);
                WriteNumber(json, "mean_ms", measured?.MeanMs ?? double.NaN);
                json.WriteStartObject("history");
                WriteSamples(json, "response_ms", measured?.ResponseTime);
                WriteSamples(json, "in_flight", measured?.InFlight);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteCache(Utf8JsonWriter json, ServingSnapshot snapshot, StatusMonitor monitor)
    {
        var lookups = new HashSet<FileLookup>(ReferenceEqualityComparer.Instance);
        foreach (var location in snapshot.Locations)
        {
            if (location.Handler is StaticHandler files)
            {
                lookups.Add(files.Files);
            }
        }

        if (snapshot.Unmatched.Handler is StaticHandler webRoot)
        {
            lookups.Add(webRoot.Files);
        }

        var entries = 0L;
        foreach (var lookup in lookups)
        {
            entries += lookup.CachedFiles;
        }

        var hits = monitor.Figures.CacheHits;
        var misses = monitor.Figures.CacheMisses;
        json.WriteStartObject("static_cache");
        json.WriteNumber("entries", entries);
        json.WriteNumber("bytes", monitor.CacheBudget.Used);
        json.WriteNumber("limit_bytes", monitor.CacheBudget.Limit);
        json.WriteNumber("hits", hits);
        json.WriteNumber("misses", misses);
        WriteNumber(json, "hit_rate", hits + misses == 0 ? double.NaN : (double)hits / (hits + misses));
        json.WriteEndObject();
    }

    private static void WriteLocations(Utf8JsonWriter json, ServingSnapshot snapshot, StatusMonitor monitor)
    {
        var locations = snapshot.Locations;
        var reasons = LocationTable.NeverSelected(locations);
        json.WriteStartArray("locations");
        for (var i = 0; i < locations.Count; i++)
        {
            WriteLocation(json, locations[i], LocationTable.KindName(locations[i].Pattern.Kind), reasons[i], monitor);
        }

        WriteLocation(json, snapshot.Unmatched, "none", null, monitor);
        if (monitor.Figures.FindLocation(snapshot.AppFallback.Feature.Match) is { Requests: > 0 })
        {
            WriteLocation(json, snapshot.AppFallback, "named", null, monitor);
        }

        json.WriteEndArray();

        json.WriteStartArray("never_selected");
        for (var i = 0; i < locations.Count; i++)
        {
            if (reasons[i] is { } reason)
            {
                json.WriteStartObject();
                json.WriteNumber("index", i);
                json.WriteString("match", locations[i].Feature.Match);
                json.WriteString("reason", reason);
                json.WriteEndObject();
            }
        }

        json.WriteEndArray();

        json.WriteStartArray("unused");
        for (var i = 0; i < locations.Count; i++)
        {
            if (monitor.Figures.FindLocation(locations[i].Feature.Match) is not { Requests: > 0 })
            {
                json.WriteStartObject();
                json.WriteNumber("index", i);
                json.WriteString("match", locations[i].Feature.Match);
                json.WriteEndObject();
            }
        }

        json.WriteEndArray();
    }

    private static void WriteLocation(Utf8JsonWriter json, Location location, string kind, string? neverSelected, StatusMonitor monitor)
    {
        var figures = monitor.Figures.FindLocation(location.Feature.Match);
        json.WriteStartObject();
        json.WriteNumber("index", location.Feature.Index);
        json.WriteString("match", location.Feature.Match);
        json.WriteString("kind", kind);
        json.WriteString("handler", ServingMetrics.HandlerName(location.Handler.Kind));
        json.WriteString("target", LocationTable.Target(location));
        json.WriteBoolean("internal", location.Internal);
        json.WriteString("never_selected", neverSelected);
        json.WriteNumber("requests", figures?.Requests ?? 0);
        WriteNumber(json, "rate", figures?.Rate.Mean(RecentSeconds) ?? 0);
        json.WriteStartObject("status");
        for (var hundreds = 1; hundreds <= 5; hundreds++)
        {
            json.WriteNumber(ClassNames[hundreds - 1], figures?.Class(hundreds) ?? 0);
        }

        json.WriteEndObject();
        json.WriteNumber("errors", figures?.Errors ?? 0);
        WriteNumber(json, "mean_ms", figures?.MeanDurationMs ?? double.NaN);
        json.WriteStartObject("history");
        WriteSamples(json, "rate", figures?.Rate);
        json.WriteEndObject();
        json.WriteStartArray("slowest");
        foreach (var request in figures?.Recent.Slowest() ?? [])
        {
            WriteRequest(json, request);
        }

        json.WriteEndArray();
        json.WriteStartArray("failed");
        foreach (var request in figures?.Recent.Failed() ?? [])
        {
            WriteRequest(json, request);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static readonly string[] ClassNames = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    private static void WriteRequest(Utf8JsonWriter json, RecentRequest request)
    {
        json.WriteStartObject();
        json.WriteString("time", request.Time);
        json.WriteString("location", request.Location);
        json.WriteString("method", request.Method);
        json.WriteString("path", request.Path);
        json.WriteNumber("status", request.StatusCode);
        json.WriteString("error_type", request.ErrorType);
        WriteNumber(json, "duration_ms", request.DurationMs);
        WriteNumber(json, "queue_ms", request.QueueMs ?? double.NaN);
        json.WriteStartArray("upstream");
        foreach (var attempt in request.Upstream)
        {
            json.WriteStartObject();
            json.WriteString("server", attempt.Server);
            if (attempt.StatusCode is { } code)
            {
                json.WriteNumber("status", code);
            }
            else
            {
                json.WriteNull("status");
            }

            WriteNumber(json, "connect_ms", attempt.ConnectMs);
            WriteNumber(json, "header_ms", attempt.HeaderMs ?? double.NaN);
            WriteNumber(json, "total_ms", attempt.TotalMs);
            json.WriteString("error_type", attempt.ErrorType);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("trace_id", request.TraceId);
        json.WriteEndObject();
    }

    private static void WriteReasons(Utf8JsonWriter json, string name, IEnumerable<KeyValuePair<string, long>>? reasons)
    {
        json.WriteStartObject(name);
        if (reasons is not null)
        {
            foreach (var (reason, count) in reasons)
            {
                json.WriteNumber(reason, count);
            }
        }

        json.WriteEndObject();
    }

    private static void WriteSamples(Utf8JsonWriter json, string name, SampleRing? ring)
    {
        json.WriteStartArray(name);
        foreach (var value in ring?.ToArray() ?? [])
        {
            WriteValue(json, value);
        }

        json.WriteEndArray();
    }

    /// <summary>A number rounded to 3 decimals, or null for NaN (nothing measured).</summary>
    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        json.WritePropertyName(name);
        WriteValue(json, value);
    }

    private static void WriteValue(Utf8JsonWriter json, double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            json.WriteNullValue();
        }
        else
        {
            json.WriteNumberValue(Math.Round(value, 3));
        }
    }
}
