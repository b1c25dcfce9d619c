using System.Net.Http;
using Microsoft.AspNetCore.Http;
using ProductionServing.Diagnostics;

namespace ProductionServing.Proxy;

/// <summary>
/// Times one request's upstream attempts for what reads them: the upstream instruments, the request's
/// <see cref="RequestRecord"/> and the <c>Server-Timing</c> header. Made only when one of them is on, so
/// a request nothing observes takes no timestamps and allocates nothing for them.
/// </summary>
/// <remarks>
/// The request's own flow calls it one step after another. The calls from elsewhere are
/// <see cref="Connecting"/> and <see cref="Connected"/>, from the connection pool's connect path
/// (<see cref="UpstreamTransport"/>), which may run on another thread and, when an attempt gave up on a
/// connection, after a later attempt began: each attempt has a number, carried by its message's
/// <see cref="AttemptTicket"/>, and a connection opened for an earlier one is measured for its own server
/// but not put on the later attempt.
/// </remarks>
internal sealed class AttemptObserver
{
    private readonly ServingMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly RequestRecord? _record;
    private readonly bool _serverTiming;
    private UpstreamServer? _server;
    private int _attempt;
    private long _start;
    private long _connectTicks;
    private long _headerTicks;
    private int _statusCode;
    private ServingErrorFeature? _errorBefore;

    private AttemptObserver(ServingMetrics metrics, TimeProvider time, RequestRecord? record, bool serverTiming)
    {
        _metrics = metrics;
        _time = time;
        _record = record;
        _serverTiming = serverTiming;
    }

    /// <summary>The observer of <paramref name="request"/>'s attempts, or null when nothing reads them.</summary>
    public static AttemptObserver? For(in ServingRequest request, UpstreamGroup group) =>
        request.Record is null && !group.Metrics.UpstreamAttemptsObserved
            ? null
            : new AttemptObserver(group.Metrics, group.Time, request.Record, request.Snapshot.ServerTiming);

    /// <summary>An attempt at <paramref name="server"/> begins now.</summary>
    public void Started(UpstreamServer server)
    {
        _server = server;
        _connectTicks = 0;
        _headerTicks = -1;
        _statusCode = 0;
        _start = _time.GetTimestamp();
        Volatile.Write(ref _attempt, _attempt + 1);
    }

    /// <summary>
    /// The attempt just started, as its request message carries it to the connect path. That path may
    /// begin late (the pool opens connections from queued work), after this attempt gave up and a later
    /// one began at another server: the ticket keeps the connection on its own attempt and server.
    /// </summary>
    public AttemptTicket Ticket() => new(this, _attempt, _server!);

    /// <summary>The connect path begins opening a connection for <paramref name="ticket"/>'s attempt.</summary>
    public PendingConnection Connecting(AttemptTicket ticket) => new(ticket.Attempt, ticket.Server, _time.GetTimestamp());

    /// <summary>The connection <paramref name="pending"/> describes is open.</summary>
    public void Connected(in PendingConnection pending)
    {
        var ticks = _time.GetTimestamp() - pending.Start;
        _metrics.UpstreamConnected(pending.Server, Elapsed(ticks));
        if (pending.Attempt == Volatile.Read(ref _attempt))
        {
            Volatile.Write(ref _connectTicks, ticks);
        }
    }

    /// <summary>The attempt's response headers arrived.</summary>
    public void HeadersReceived(HttpContext context, HttpResponseMessage response)
    {
        var server = _server!;
        _headerTicks = _time.GetTimestamp() - _start;
        _statusCode = (int)response.StatusCode;
        _errorBefore = context.Features.Get<ServingErrorFeature>();
        _metrics.UpstreamHeadersReceived(server, Elapsed(_headerTicks));
        _record?.AddAttempt(new UpstreamAttempt(server.Name, _statusCode, Volatile.Read(ref _connectTicks), _headerTicks, _headerTicks, null));
    }

    /// <summary>
    /// The response's head is set and about to go out: adds the <c>Server-Timing</c> fields of the attempt,
    /// after the upstream's own (which were copied), so a browser shows both.
    /// </summary>
    public void ResponseStarting(HttpResponse response)
    {
        if (!_serverTiming)
        {
            return;
        }

        var connect = Volatile.Read(ref _connectTicks);
        if (connect > 0)
        {
            ServerTiming.Append(response, "connect", Elapsed(connect));
        }

        ServerTiming.Append(response, "upstream", Elapsed(_headerTicks), _server!.Name);
    }

    /// <summary>
    /// The attempt that got a response has ended: its body was sent (or its tunnel closed), or it failed
    /// after the headers, which the error recorded on the request tells.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="tunnel">Whether it was a WebSocket tunnel, which ends with the client's close, not an abort.</param>
    public void Ended(HttpContext context, bool tunnel)
    {
        var server = _server!;
        var ticks = _time.GetTimestamp() - _start;
        var error = context.Features.Get<ServingErrorFeature>();
        var errorType = error is not null && !ReferenceEquals(error, _errorBefore) ? error.ErrorType
            : !tunnel && context.RequestAborted.IsCancellationRequested ? ErrorTypes.ClientAborted
            : null;
        _metrics.UpstreamAttemptEnded(server, _statusCode, errorType, Elapsed(ticks));
        _record?.UpdateLastAttempt(new UpstreamAttempt(server.Name, _statusCode, Volatile.Read(ref _connectTicks), _headerTicks, ticks, errorType));
    }

    /// <summary>The attempt failed before any response (<paramref name="errorType"/> says why).</summary>
    /// <remarks>
    /// With <c>Server-Timing</c> on, the failed attempt gets its own <c>upstream</c> field, its server and
    /// <c>error.type</c> as the description, so a retried request shows where the retry's time went. A
    /// request that ends in an error answer loses them with the rest of the head (<see cref="ErrorResponse"/>
    /// clears it).
    /// </remarks>
    public void Failed(HttpResponse response, string errorType)
    {
        var server = _server!;
        var ticks = _time.GetTimestamp() - _start;
        _metrics.UpstreamAttemptEnded(server, 0, errorType, Elapsed(ticks));
        _record?.AddAttempt(new UpstreamAttempt(server.Name, 0, Volatile.Read(ref _connectTicks), -1, ticks, errorType));
        if (_serverTiming && !response.HasStarted)
        {
            ServerTiming.Append(response, "upstream", Elapsed(ticks), server.Name + " " + errorType);
        }
    }

    private TimeSpan Elapsed(long ticks) => _time.GetElapsedTime(0, ticks);

    /// <summary>A connection being opened: for which attempt and server, and since when.</summary>
    internal readonly record struct PendingConnection(int Attempt, UpstreamServer Server, long Start);

    /// <summary>One attempt of an observed request: its observer, its number and the server it went to.</summary>
    internal sealed class AttemptTicket(AttemptObserver observer, int attempt, UpstreamServer server)
    {
        public AttemptObserver Observer { get; } = observer;

        public int Attempt { get; } = attempt;

        public UpstreamServer Server { get; } = server;
    }
}
