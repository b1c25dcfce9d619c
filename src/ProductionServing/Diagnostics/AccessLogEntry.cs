using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Diagnostics;

/// <summary>
/// The facts of one ended request that both formats write (<see cref="CombinedLine"/>, <see cref="JsonLine"/>),
/// taken where nginx takes its variables from: the request line as the client sent it, the status as it
/// went out, the body bytes counted as they went out.
/// </summary>
internal readonly ref struct AccessLogEntry
{
    private static readonly string UpstreamTimeout = ErrorTypes.Of(ServingError.UpstreamTimeout);
    private static readonly string UpstreamConnectTimeout = ErrorTypes.Of(ServingError.UpstreamConnectTimeout);

    public AccessLogEntry(HttpContext context, RequestRecord record, ServingLocation? location, int statusCode, string? errorType,
        DateTimeOffset now, TimeProvider time)
    {
        Context = context;
        Record = record;
        Location = location;
        ErrorType = errorType;
        Now = now;
        Time = time;
        RequestTime = time.GetElapsedTime(record.Start);

        StatusCode = statusCode;
        Method = record.Method ?? context.Request.Method;

        // A HEAD response has no body whatever the app wrote (RFC 9110 §9.3.2): the server sent none of it.
        BodyBytesSent = HttpMethods.IsHead(Method) ? 0 : record.BytesSent;
    }

    public HttpContext Context { get; }

    public RequestRecord Record { get; }

    /// <summary>The location that finally served the request, after internal redirects (nginx logs "in the context of a location where processing ends").</summary>
    public ServingLocation? Location { get; }

    public int StatusCode { get; }

    public string? ErrorType { get; }

    /// <summary>When the line is written, as nginx's <c>$time_local</c> is: in the time zone of the host's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset Now { get; }

    public TimeProvider Time { get; }

    /// <summary>From the middleware taking the request to its end (nginx's <c>$request_time</c>).</summary>
    public TimeSpan RequestTime { get; }

    public string Method { get; }

    public long BodyBytesSent { get; }

    /// <summary>The request target as the client sent it (nginx's <c>$request_uri</c>), never a rewritten one.</summary>
    public string Target =>
        Context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw
            ? raw
            : Context.Request.PathBase.Value + Context.Request.Path.Value + Context.Request.QueryString.Value;

    /// <summary>
    /// The protocol as nginx writes it in <c>$request</c>: <c>HTTP/2.0</c> and <c>HTTP/3.0</c> (its HTTP/2 and HTTP/3
    /// modules build the request line so), where ASP.NET Core says <c>HTTP/2</c> and <c>HTTP/3</c>.
    /// </summary>
    public string Protocol => Context.Request.Protocol switch
    {
        var protocol when HttpProtocol.IsHttp2(protocol) => "HTTP/2.0",
        var protocol when HttpProtocol.IsHttp3(protocol) => "HTTP/3.0",
        var protocol => protocol,
    };

    public string? Referer => First(Context.Request.Headers.Referer);

    public string? UserAgent => First(Context.Request.Headers.UserAgent);

    /// <summary>The client's address, an IPv4-mapped IPv6 address as the IPv4 one (a dual-stack socket's view of an IPv4 client).</summary>
    public IPAddress? RemoteAddress =>
        Context.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : Context.Connection.RemoteIpAddress;

    /// <summary>Whole milliseconds of <paramref name="ticks"/> of the host's <see cref="TimeProvider"/> (a difference of its timestamps).</summary>
    public long Milliseconds(long ticks) => (long)Time.GetElapsedTime(0, ticks).TotalMilliseconds;

    /// <summary>
    /// An attempt's status as nginx's <c>$upstream_status</c> shows it: the upstream's own, or for an attempt that
    /// got none the status nginx records for the failure (504 for a timeout, 502 for any other error), or 0 (<c>-</c>).
    /// </summary>
    public static int UpstreamStatus(in UpstreamAttempt attempt) => attempt.StatusCode != 0 ? attempt.StatusCode
        : attempt.ErrorType is null ? 0
        : attempt.ErrorType == UpstreamTimeout || attempt.ErrorType == UpstreamConnectTimeout ? StatusCodes.Status504GatewayTimeout
        : StatusCodes.Status502BadGateway;

    /// <summary>
    /// An upstream server as nginx's <c>$upstream_addr</c> shows it, <c>host:port</c>: the configured address
    /// without its scheme and trailing slash.
    /// </summary>
    public static ReadOnlySpan<char> UpstreamAddress(string server)
    {
        var address = server.AsSpan();
        var scheme = address.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            address = address[(scheme + 3)..];
        }

        return address.TrimEnd('/');
    }

    private static string? First(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values[0];
}
