namespace ProductionServing.Diagnostics;

/// <summary>
/// Where one request's time went, filled in by the handlers as it is served and read at its end by the
/// access log, the status page's recent requests and the <c>Server-Timing</c> header. Made only when one
/// of those is on (<see cref="Configuration.ServingSnapshot.RecordsRequests"/>): metrics are recorded where they happen and
/// need none, so the static hit path allocates nothing for them.
/// </summary>
/// <remarks>
/// Times are <see cref="TimeProvider"/> timestamps and tick counts of the host's <see cref="TimeProvider"/>
/// (so tests drive them with a fake clock). Written by the request's own flow only, one step after another;
/// read once the handler's task has ended.
/// </remarks>
internal sealed class RequestRecord(long start)
{
    /// <summary>Upstream attempts kept for the access log's comma-separated fields; later ones are counted, not kept.</summary>
    public const int MaxKeptAttempts = 8;

    private UpstreamAttempt[]? _attempts;

    /// <summary>When the middleware took the request (a timestamp of the host's <see cref="TimeProvider"/>).</summary>
    public long Start { get; } = start;

    /// <summary>Ticks the request waited in a pool's queue (nginx has none; gunicorn's backlog), or -1 when it went through no pool.</summary>
    public long QueueWaitTicks { get; set; } = -1;

    /// <summary>Bytes of the response body sent to the client (nginx's <c>$body_bytes_sent</c>).</summary>
    public long BytesSent { get; set; }

    /// <summary>The access log that writes the request at its end (that of the configuration it started with), or null when the log is off.</summary>
    public AccessLog? AccessLog { get; set; }

    /// <summary>
    /// The method as the client sent it, for the access log: an <c>X-Accel-Redirect</c> handoff turns the
    /// request into a GET, and nginx's <c>$request</c> still shows the client's request line.
    /// </summary>
    public string? Method { get; set; }

    /// <summary>Upstream attempts made, kept or not (one more than the retries).</summary>
    public int AttemptCount { get; private set; }

    /// <summary>The kept attempts, oldest first: <see cref="KeptAttempts"/> of them.</summary>
    public ReadOnlySpan<UpstreamAttempt> Attempts => _attempts.AsSpan(0, KeptAttempts);

    private int KeptAttempts => Math.Min(AttemptCount, MaxKeptAttempts);

    /// <summary>Adds an upstream attempt once it has ended (its response received, or its failure known).</summary>
    public void AddAttempt(in UpstreamAttempt attempt)
    {
        if (AttemptCount < MaxKeptAttempts)
        {
            _attempts ??= new UpstreamAttempt[2];
            if (AttemptCount == _attempts.Length)
            {
                Array.Resize(ref _attempts, Math.Min(_attempts.Length * 2, MaxKeptAttempts));
            }

            _attempts[AttemptCount] = attempt;
        }

        AttemptCount++;
    }

    /// <summary>Replaces the last attempt: its response body has now been sent, so its total time is known.</summary>
    public void UpdateLastAttempt(in UpstreamAttempt attempt)
    {
        if (AttemptCount > 0 && AttemptCount <= MaxKeptAttempts)
        {
            _attempts![AttemptCount - 1] = attempt;
        }
    }
}

/// <summary>One attempt at an upstream server (nginx's <c>$upstream_*</c> variables, one entry per server tried).</summary>
/// <param name="Server">The server's address as configured (<c>ua</c>).</param>
/// <param name="StatusCode">The upstream's status, or 0 when it sent none (the access log shows <c>-</c>).</param>
/// <param name="ConnectTicks">Time to open a new connection, 0 when a kept-alive one was reused (nginx's <c>$upstream_connect_time</c>).</param>
/// <param name="HeaderTicks">Time from the attempt's start to the response headers (nginx's <c>$upstream_header_time</c>), or -1.</param>
/// <param name="TotalTicks">Time from the attempt's start to its end (nginx's <c>$upstream_response_time</c>).</param>
/// <param name="ErrorType">Why the attempt failed (<see cref="ErrorTypes"/>), or null.</param>
internal readonly record struct UpstreamAttempt(string Server, int StatusCode, long ConnectTicks, long HeaderTicks, long TotalTicks, string? ErrorType);
