namespace ProductionServing;

/// <summary>
/// Why ProductionServing answered a request itself, or aborted it, instead of passing on its handler's
/// normal response. Recorded on the request as <see cref="ServingErrorFeature"/>, so that outer
/// middleware, logs and metrics can tell the causes apart (the status code alone cannot: a 502 may be a
/// refused connection, a reset or an invalid response).
/// </summary>
/// <remarks>
/// Each value names the status it is answered with. Once the response has started, nothing can be
/// answered any more: the connection is aborted instead, so that a broken response never looks
/// complete, and the error is still recorded.
/// </remarks>
public enum ServingError
{
    /// <summary>400: the request target is malformed, climbs above <c>/</c>, or has control characters or backslashes.</summary>
    InvalidRequestTarget = 1,

    /// <summary>500: matching the path against a location's regex took longer than its match timeout.</summary>
    RegexTimeout,

    /// <summary>404: a client asked for an <c>Internal</c> location, which only internal redirects reach.</summary>
    InternalLocation,

    /// <summary>404: no file to serve (missing, hidden, or outside the location's folder).</summary>
    FileNotFound,

    /// <summary>403: a folder with neither an index file nor <c>AutoIndex</c> (nginx answers the same).</summary>
    DirectoryListingDenied,

    /// <summary>405: a static location takes GET and HEAD only; the answer carries <c>Allow: GET, HEAD</c>.</summary>
    MethodNotAllowed,

    /// <summary>The status of a <c>TryFiles</c> <c>=CODE</c> fallback (4xx or 5xx), when no candidate exists.</summary>
    TryFilesStatus,

    /// <summary>404: an <c>X-Accel-Redirect</c> target that is malformed or has <c>.</c> or <c>..</c> segments (nginx's "unsafe URI").</summary>
    UnsafeRedirect,

    /// <summary>500: more internal redirects than nginx allows (10), from <c>TryFiles</c> and <c>X-Accel-Redirect</c> together.</summary>
    RedirectLoop,

    /// <summary>A static file changed or was truncated while it was being sent: the connection is aborted.</summary>
    FileChanged,

    /// <summary>
    /// The client's request body failed while it was forwarded (malformed, cut off): Kestrel's status, else 400.
    /// A body Kestrel refuses as too large is <see cref="RequestBodyTooLarge"/>.
    /// </summary>
    InvalidRequestBody,

    /// <summary>502: every server of the upstream group is down (nginx's "no live upstreams").</summary>
    NoLiveUpstream,

    /// <summary>502: no connection to the upstream server (refused, unreachable, name not resolved).</summary>
    UpstreamConnectFailed,

    /// <summary>504: no connection to the upstream server within <c>ConnectTimeout</c>.</summary>
    UpstreamConnectTimeout,

    /// <summary>502: the upstream server reset or closed the connection before its response.</summary>
    UpstreamReset,

    /// <summary>504: no response from the upstream server within <c>ReadTimeout</c>.</summary>
    UpstreamTimeout,

    /// <summary>502: the upstream server's response is not valid HTTP, or cannot be forwarded as it is.</summary>
    UpstreamInvalidResponse,

    /// <summary>502: the request could not be written to the upstream at all (a header the client library refuses).</summary>
    UpstreamRequestUnsendable,

    /// <summary>503: every server is at <c>MaxConnections</c> and the group's queue is full.</summary>
    UpstreamQueueFull,

    /// <summary>503: the request waited <c>QueueTimeout</c> for a server under <c>MaxConnections</c>.</summary>
    UpstreamQueueTimeout,

    /// <summary>The upstream failed after its response had started: the client connection is aborted.</summary>
    UpstreamResponseAborted,

    /// <summary>503: the pool was full and so was its queue.</summary>
    PoolQueueFull,

    /// <summary>503: the request waited the pool's <c>QueueTimeout</c> without a slot.</summary>
    PoolQueueTimeout,

    /// <summary>503: the pool's <c>AdaptiveLifo</c> queue shed the request (it waited past <c>TargetQueueDelay</c> while the queue stood).</summary>
    PoolShed,

    /// <summary>503: the host is stopping and the pool takes no new requests.</summary>
    PoolShuttingDown,

    /// <summary>504: the app ran past its pool's <c>RequestTimeout</c> (or the connection is aborted, when its response had started).</summary>
    RequestTimeout,

    /// <summary>
    /// 413: the client's request body is larger than the server accepts (Kestrel's <c>MaxRequestBodySize</c>),
    /// found while the body was being forwarded.
    /// </summary>
    RequestBodyTooLarge,

    /// <summary>403: the client's address is in none of the location's <c>Allow</c> networks (nginx's "access forbidden by rule").</summary>
    ClientForbidden,

    /// <summary>
    /// 429: the location's <c>RateLimit</c> refused the request (over its rate and burst, or its delay queue was
    /// full); the answer carries <c>Retry-After</c> (RFC 6585 §4).
    /// </summary>
    RateLimited,
}
