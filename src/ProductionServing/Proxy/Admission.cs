namespace ProductionServing.Proxy;

/// <summary>Why no server was given to an attempt; <see cref="None"/> when one was.</summary>
internal enum AdmissionFailure
{
    /// <summary>A server was acquired.</summary>
    None,

    /// <summary>Every server is down (passive or active health): 502 at once, as nginx's "no live upstreams".</summary>
    NoLiveServer,

    /// <summary>Every server that is up was already tried by this request: stop retrying.</summary>
    AllTried,

    /// <summary>Every server is at <c>MaxConnections</c> and the wait queue is full: 503.</summary>
    QueueFull,

    /// <summary>Waited <c>QueueTimeout</c> for a server under <c>MaxConnections</c>: 503.</summary>
    QueueTimeout,

    /// <summary>The client went away while waiting.</summary>
    Canceled,
}
