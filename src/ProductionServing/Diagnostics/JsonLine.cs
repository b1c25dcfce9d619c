using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using ProductionServing.Directives;

namespace ProductionServing.Diagnostics;

/// <summary>
/// The <c>json</c> line: one JSON object with the <c>combined</c> line's fields, named and typed (docs/observability.md,
/// "Access log", lists them): numbers are numbers (seconds with a millisecond resolution), an absent value
/// is <c>null</c> rather than <c>-</c>, and the upstream fields are arrays with one entry per server tried.
/// Strings are written as the client sent them, escaped only as JSON needs: non-ASCII stays UTF-8
/// (the relaxed encoder; a log line is never embedded in HTML).
/// </summary>
internal static class JsonLine
{
    private static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly JsonEncodedText Time = JsonEncodedText.Encode("time");
    private static readonly JsonEncodedText RemoteAddr = JsonEncodedText.Encode("remote_addr");
    private static readonly JsonEncodedText Request = JsonEncodedText.Encode("request");
    private static readonly JsonEncodedText Method = JsonEncodedText.Encode("method");
    private static readonly JsonEncodedText Path = JsonEncodedText.Encode("path");
    private static readonly JsonEncodedText Protocol = JsonEncodedText.Encode("protocol");
    private static readonly JsonEncodedText Status = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText BodyBytesSent = JsonEncodedText.Encode("body_bytes_sent");
    private static readonly JsonEncodedText Referer = JsonEncodedText.Encode("referer");
    private static readonly JsonEncodedText UserAgent = JsonEncodedText.Encode("user_agent");
    private static readonly JsonEncodedText RequestTime = JsonEncodedText.Encode("request_time");
    private static readonly JsonEncodedText UpstreamAddr = JsonEncodedText.Encode("upstream_addr");
    private static readonly JsonEncodedText UpstreamStatus = JsonEncodedText.Encode("upstream_status");
    private static readonly JsonEncodedText UpstreamResponseTime = JsonEncodedText.Encode("upstream_response_time");
    private static readonly JsonEncodedText Location = JsonEncodedText.Encode("location");
    private static readonly JsonEncodedText QueueTime = JsonEncodedText.Encode("queue_time");
    private static readonly JsonEncodedText TraceId = JsonEncodedText.Encode("trace_id");
    private static readonly JsonEncodedText RequestIdName = JsonEncodedText.Encode("request_id");
    private static readonly JsonEncodedText ErrorType = JsonEncodedText.Encode("error_type");

    /// <summary>One writer per thread, like <see cref="LineBuffer"/>, whose buffer it writes to.</summary>
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static void Write(LineBuffer line, in AccessLogEntry entry)
    {
        var writer = t_writer;
        if (writer is null)
        {
            writer = t_writer = new Utf8JsonWriter(line, Options);
        }
        else
        {
            writer.Reset(line);
        }

        writer.WriteStartObject();
        Span<char> chars = stackalloc char[64];
        entry.Now.TryFormat(chars, out var written, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffzzz", CultureInfo.InvariantCulture);
        writer.WriteString(Time, chars[..written]);
        if (entry.RemoteAddress is { } address && address.TryFormat(chars, out written))
        {
            writer.WriteString(RemoteAddr, chars[..written]);
        }
        else
        {
            writer.WriteNull(RemoteAddr);
        }

        var target = entry.Target;
        WriteRequestLine(writer, entry.Method, target, entry.Protocol);
        writer.WriteString(Method, entry.Method);
        var query = target.IndexOf('?', StringComparison.Ordinal);
        writer.WriteString(Path, query < 0 ? target : target.AsSpan(0, query));
        writer.WriteString(Protocol, entry.Protocol);
        writer.WriteNumber(Status, entry.StatusCode);
        writer.WriteNumber(BodyBytesSent, entry.BodyBytesSent);
        WriteStringOrNull(writer, Referer, entry.Referer);
        WriteStringOrNull(writer, UserAgent, entry.UserAgent);
        writer.WriteNumber(RequestTime, Seconds((long)entry.RequestTime.TotalMilliseconds));
        WriteUpstreams(writer, entry);
        WriteStringOrNull(writer, Location, entry.Location?.Match);
        var queued = entry.Record.QueueWaitTicks;
        if (queued < 0)
        {
            writer.WriteNull(QueueTime);
        }
        else
        {
            writer.WriteNumber(QueueTime, Seconds(entry.Milliseconds(queued)));
        }

        WriteTraceId(writer, entry, chars);

        // nginx's $request_id: the value the location's templates used (sent upstream as X-Request-ID, say).
        RequestId.Write(entry.Context, chars);
        writer.WriteString(RequestIdName, chars[..32]);
        WriteStringOrNull(writer, ErrorType, entry.ErrorType);
        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>Milliseconds as seconds: a double prints them exactly (<c>0.003</c>), being the nearest to a number of three decimals.</summary>
    private static double Seconds(long milliseconds) => Math.Max(milliseconds, 0) / 1000.0;

    private static void WriteStringOrNull(Utf8JsonWriter writer, JsonEncodedText name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary><c>request</c>: the request line, <c>GET /path?query HTTP/1.1</c>, built in a pooled buffer.</summary>
    private static void WriteRequestLine(Utf8JsonWriter writer, string method, string target, string protocol)
    {
        var length = method.Length + target.Length + protocol.Length + 2;
        var rented = ArrayPool<char>.Shared.Rent(length);
        try
        {
            var span = rented.AsSpan(0, length);
            method.CopyTo(span);
            span[method.Length] = ' ';
            target.CopyTo(span[(method.Length + 1)..]);
            span[method.Length + 1 + target.Length] = ' ';
            protocol.CopyTo(span[(method.Length + target.Length + 2)..]);
            writer.WriteString(Request, span);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>The upstream fields as arrays, one entry per server tried (<c>null</c> when none was).</summary>
    private static void WriteUpstreams(Utf8JsonWriter writer, in AccessLogEntry entry)
    {
        var attempts = entry.Record.Attempts;
        if (attempts.IsEmpty)
        {
            writer.WriteNull(UpstreamAddr);
            writer.WriteNull(UpstreamStatus);
            writer.WriteNull(UpstreamResponseTime);
            return;
        }

        writer.WriteStartArray(UpstreamAddr);
        foreach (ref readonly var attempt in attempts)
        {
            writer.WriteStringValue(AccessLogEntry.UpstreamAddress(attempt.Server));
        }

        writer.WriteEndArray();
        writer.WriteStartArray(UpstreamStatus);
        foreach (ref readonly var attempt in attempts)
        {
            var status = AccessLogEntry.UpstreamStatus(attempt);
            if (status == 0)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteNumberValue(status);
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray(UpstreamResponseTime);
        foreach (ref readonly var attempt in attempts)
        {
            if (attempt.TotalTicks < 0)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteNumberValue(Seconds(entry.Milliseconds(attempt.TotalTicks)));
            }
        }

        writer.WriteEndArray();
    }

    /// <summary><c>trace_id</c>: the W3C trace id of the request's activity, to go from a line to its trace.</summary>
    private static void WriteTraceId(Utf8JsonWriter writer, in AccessLogEntry entry, Span<char> chars)
    {
        if (entry.Context.Features.Get<IHttpActivityFeature>()?.Activity is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            Span<byte> id = stackalloc byte[16];
            activity.TraceId.CopyTo(id);
            if (Convert.TryToHexStringLower(id, chars, out var written))
            {
                writer.WriteString(TraceId, chars[..written]);
                return;
            }
        }

        writer.WriteNull(TraceId);
    }
}
