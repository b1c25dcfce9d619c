namespace ProductionServing.Proxy;

/// <summary>How one attempt to get a response from an upstream server failed.</summary>
internal enum AttemptFailure
{
    /// <summary>The response arrived (or the tunnel opened): nothing failed.</summary>
    None,

    /// <summary>No connection: refused, unreachable. Nothing was sent, so any method may go to another server. 502.</summary>
    ConnectFailed,

    /// <summary><c>ConnectTimeout</c> passed. Nothing was sent. 504, as nginx's proxy_connect_timeout.</summary>
    ConnectTimedOut,

    /// <summary>The connection was reset or closed before a response. 502.</summary>
    Reset,

    /// <summary>No response within <c>ReadTimeout</c>. 504.</summary>
    TimedOut,

    /// <summary>The upstream answered something that is not HTTP. 502, not retried (nginx's invalid_header is not in its default proxy_next_upstream).</summary>
    InvalidResponse,

    /// <summary>The client went away or sent a broken body: not the upstream's fault, nothing to answer.</summary>
    Client,

    /// <summary>
    /// The request could not be written at all (the handler refused something in it before any network
    /// error): 502, neither retried nor counted against the server, which never saw it.
    /// </summary>
    Unsendable,
}
