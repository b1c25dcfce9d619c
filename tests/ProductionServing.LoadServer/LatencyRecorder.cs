using System.Diagnostics;
using System.Globalization;

namespace ProductionServing.LoadServer;

/// <summary>
/// Server-side latency of the overload benchmark, per status: wrk's histogram mixes the fast 503s
/// of a shedding pool with its 200s, so the 200s' own latency is measured here. A middleware placed
/// before the library times each request from its entry into the pipeline to the end of the app
/// (queue wait included) and records it: 200s and 503s in their own histograms, anything else (or a
/// request that threw) in a count. <c>GET /__latency</c> answers one line,
/// <c>ok=N ok_p50_us=N ok_p99_us=N shed=N shed_p50_us=N shed_p99_us=N other=N</c>, covering every
/// request since the last <c>GET /__latency/reset</c> (or the start). Paths under <c>/__</c> are
/// the harness's and are not recorded.
/// </summary>
internal sealed class LatencyRecorder
{
    private readonly LatencyHistogram _ok = new();
    private readonly LatencyHistogram _shed = new();
    private long _other;

    /// <summary>Adds the timing middleware; call it before <c>UseProductionServing()</c>.</summary>
    public void UseTiming(WebApplication app) => app.Use(next => context => TimeAsync(context, next));

    /// <summary>Maps <c>/__latency</c> and <c>/__latency/reset</c>; the library's modes keep <c>/__</c> out of every pool.</summary>
    public void MapEndpoints(WebApplication app)
    {
        app.MapGet("/__latency", Describe);
        app.MapGet("/__latency/reset", Reset);
    }

    private async Task TimeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path.Value is { } path && path.StartsWith("/__", StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        catch
        {
            Interlocked.Increment(ref _other);
            throw;
        }

        // TimeSpan ticks are 100 ns.
        var microseconds = Stopwatch.GetElapsedTime(start).Ticks / 10;
        switch (context.Response.StatusCode)
        {
            case StatusCodes.Status200OK:
                _ok.Record(microseconds);
                break;
            case StatusCodes.Status503ServiceUnavailable:
                _shed.Record(microseconds);
                break;
            default:
                Interlocked.Increment(ref _other);
                break;
        }
    }

    private string Describe()
    {
        var ok = _ok.Summarize();
        var shed = _shed.Summarize();
        return string.Create(CultureInfo.InvariantCulture,
            $"ok={ok.Count} ok_p50_us={ok.P50} ok_p99_us={ok.P99} shed={shed.Count} shed_p50_us={shed.P50} shed_p99_us={shed.P99} other={Volatile.Read(ref _other)}");
    }

    private string Reset()
    {
        _ok.Reset();
        _shed.Reset();
        Interlocked.Exchange(ref _other, 0);
        return "reset";
    }
}
