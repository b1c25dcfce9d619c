using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using ProductionServing.Configuration;
using ProductionServing.Diagnostics;
using ProductionServing.Directives;
using ProductionServing.Routing;

namespace ProductionServing;

/// <summary>
/// One request as a handler gets it: the context, the normalized path its location was selected for,
/// that location, and the flow it came through (for internal redirects). A value: it costs no
/// allocation, and an internal redirect makes a new one.
/// </summary>
internal readonly struct ServingRequest
{
    public ServingRequest(HttpContext context, string path, Location location, Match? captures, ServingSnapshot snapshot, ProductionServingMiddleware flow,
        int redirects, bool handedOff, RequestRecord? record)
    {
        Captures = captures;
        Record = record;
        Context = context;
        Path = path;
        Location = location;
        Snapshot = snapshot;
        Flow = flow;
        Redirects = redirects;
        HandedOff = handedOff;
    }

    public HttpContext Context { get; }

    /// <summary>The normalized path (nginx's <c>$uri</c>): the request's, or the target of the last internal redirect.</summary>
    public string Path { get; }

    /// <summary>The location selected for <see cref="Path"/>.</summary>
    public Location Location { get; }

    /// <summary>The location regex's match, when the location's directives use its captures (<c>$1</c>…); otherwise null.</summary>
    public Match? Captures { get; }

    /// <summary>What the location's variable templates are expanded against.</summary>
    public VariableScope Variables => new(Context, Path, Captures);

    /// <summary>The configuration the request started with; internal redirects match against it too.</summary>
    public ServingSnapshot Snapshot { get; }

    /// <summary>The middleware the request came through: internal redirects and the app (the rest of its pipeline) are reached through it.</summary>
    public ProductionServingMiddleware Flow { get; }

    /// <summary>Internal redirects taken so far (nginx counts them per request, and stops at 10).</summary>
    public int Redirects { get; }

    /// <summary>
    /// Whether an app's <c>X-Accel-Redirect</c> led here: the app has taken the request's body, and the
    /// method became GET (unless it was HEAD), as nginx does for the handoff.
    /// </summary>
    public bool HandedOff { get; }

    /// <summary>
    /// Where the request's time goes (queue wait, upstream attempts, bytes sent), for the access log and the
    /// status page; null when neither is on, and handlers then record nothing there.
    /// </summary>
    public RequestRecord? Record { get; }

    /// <summary>Whether the path is no longer the client's (an internal redirect changed it): forward it rebuilt, not the raw target.</summary>
    public bool UriChanged => Redirects > 0;
}
