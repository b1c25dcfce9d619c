using System.Net.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// A forwarded request, carrying its <see cref="AttemptObserver"/> to the connection pool's connect path
/// (<see cref="SocketsHttpConnectionContext.InitialRequestMessage"/> is this message), so that a new
/// connection is timed for the attempt that opened it. A field costs no allocation of its own, where
/// <see cref="HttpRequestMessage.Options"/> allocates a dictionary per request.
/// </summary>
internal sealed class UpstreamRequestMessage(HttpMethod method, Uri uri, AttemptObserver? observer) : HttpRequestMessage(method, uri)
{
    /// <summary>The request's observer, or null when nothing reads its attempts.</summary>
    public AttemptObserver? Observer { get; } = observer;
}
