using Microsoft.AspNetCore.Http;
using ProductionServing.Configuration;

namespace ProductionServing.Diagnostics;

/// <summary>
/// The access log of one configuration (nginx's <c>access_log</c>; docs/observability.md, "Access log"): at each request's start the
/// middleware installs a body that counts the bytes sent (<see cref="Begin"/>), and at its end one line is
/// written in the configured format to the sink (<see cref="End"/>), unless the location that served it
/// has <see cref="LocationOptions.AccessLog"/> off.
/// </summary>
internal sealed class AccessLog
{
    /// <summary>The log category of the lines when there is no file (<see cref="AccessLogLoggerSink"/>).</summary>
    public const string Category = "ProductionServing.AccessLog";

    private readonly AccessLogFormat _format;
    private readonly AccessLogSink _sink;
    private readonly bool[] _unlogged;
    private readonly TimeProvider _time;

    private AccessLog(AccessLogFormat format, AccessLogSink sink, bool[] unlogged, TimeProvider time)
    {
        _format = format;
        _sink = sink;
        _unlogged = unlogged;
        _time = time;
    }

    /// <summary>Parses <see cref="AccessLogOptions.Format"/>: <c>combined</c> or <c>json</c>, in any case.</summary>
    public static bool TryParseFormat(string? text, out AccessLogFormat format)
    {
        if (string.Equals(text, "combined", StringComparison.OrdinalIgnoreCase))
        {
            format = AccessLogFormat.Combined;
            return true;
        }

        format = AccessLogFormat.Json;
        return string.Equals(text, "json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The access log of validated <paramref name="options"/>, or null when it is off. Compiling hands the
    /// file over from the previous configuration (kept, switched or closed: <see cref="AccessLogFiles.Build"/>).
    /// </summary>
    public static AccessLog? Compile(ProductionServingOptions options, ServingEnvironment environment)
    {
        if (environment.AccessLogs is not { } files)
        {
            return options.AccessLog is null ? null
                : throw new InvalidOperationException("AccessLog: the access log needs the services AddProductionServing registers.");
        }

        if (files.Build(options.AccessLog, environment.ContentRoot) is not { } sink || options.AccessLog is not { } log)
        {
            return null;
        }

        var format = TryParseFormat(log.Format, out var parsed) ? parsed : throw new InvalidOperationException($"AccessLog.Format: '{log.Format}' is not a format.");
        var unlogged = new bool[options.Locations.Count];
        for (var i = 0; i < unlogged.Length; i++)
        {
            unlogged[i] = !options.Locations[i].AccessLog;
        }

        return new AccessLog(format, sink, unlogged, files.Time);
    }

    /// <summary>Starts recording <paramref name="context"/> for its line: the client's method, and the body's bytes as they are sent.</summary>
    public void Begin(HttpContext context, RequestRecord record)
    {
        record.AccessLog = this;
        record.Method = context.Request.Method;
        CountingResponseBody.Install(context, record);
    }

    /// <summary>Writes the line of a request that has ended.</summary>
    /// <param name="context">The request.</param>
    /// <param name="record">Its record, begun by <see cref="Begin"/>.</param>
    /// <param name="location">The location that finally served it, or null when none was selected.</param>
    /// <param name="statusCode">The status sent (500 for an exception that escaped before the response started).</param>
    /// <param name="errorType">Why it failed (<see cref="ErrorTypes"/>), or null.</param>
    public void End(HttpContext context, RequestRecord record, ServingLocation? location, int statusCode, string? errorType)
    {
        CountingResponseBody.Remove(context);
        if (!_sink.IsEnabled || (location is { Index: >= 0 and var index } && index < _unlogged.Length && _unlogged[index]))
        {
            return;
        }

        var entry = new AccessLogEntry(context, record, location, statusCode, errorType, _time.GetLocalNow(), _time);
        var line = LineBuffer.Start();
        if (_format == AccessLogFormat.Json)
        {
            JsonLine.Write(line, entry);
        }
        else
        {
            CombinedLine.Write(line, entry);
        }

        _sink.Write(line.Written);
    }
}
