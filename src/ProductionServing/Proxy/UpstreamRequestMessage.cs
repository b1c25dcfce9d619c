using System.Net.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// A forwarded request (one attempt), carrying its <see cref="AttemptObserver.AttemptTicket"/> to the connection pool's
/// connect path (<see cref="SocketsHttpConnectionContext.InitialRequestMessage"/> is this message), so that
/// a new connection is timed for the attempt that opened it. A field costs no allocation of its own, where
/// <see cref="HttpRequestMessage.Options"/> allocates a dictionary per request.
/// </summary>
internal sealed class UpstreamRequestMessage(HttpMethod method, Uri uri, AttemptObserver.AttemptTicket? attempt) : HttpRequestMessage(method, uri)
{
    /// <summary>The attempt this message is, or null when nothing reads the request's attempts.</summary>
    public AttemptObserver.AttemptTicket? Attempt { get; } = attempt;
}
