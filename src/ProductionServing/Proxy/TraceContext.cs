using System.Diagnostics;
using System.Net.Http;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// W3C Trace Context (<c>traceparent</c>, <c>tracestate</c>) on forwarded requests: the upstream call is a
/// child of the request's Activity, as a tracing backend needs to join the two services' spans.
/// </summary>
/// <remarks>
/// 1. No current Activity (nothing traces and logging keeps no scopes): the client's headers go upstream
///    as they came, so a trace the client started still reaches the upstream.
/// 2. A current W3C Activity (ASP.NET Core's request Activity, whose trace id and trace state are the
///    client's when it sent them): the client's <c>traceparent</c> and <c>tracestate</c> are not
///    forwarded, and the upstream gets the Activity's own instead. SocketsHttpHandler's
///    DiagnosticsHandler adds trace headers only when the request has none, so the client's would win
///    over ours if they stayed.
/// 3. When outgoing HTTP tracing is observed (<see cref="HttpClientTracing.IsObserved"/>), the handler
///    starts its own Activity for the upstream call, a child of the request's, and writes its id through
///    <see cref="Propagator"/>. Otherwise the handler is kept from making that Activity (no one would see
///    it) and <see cref="Inject"/> writes the request Activity's id: the upstream's parent is then the
///    request's span, which is the nearest span any backend sees.
/// Baggage (<c>baggage</c>, <c>Correlation-Context</c>) is forwarded as the client sent it and never
/// written from the Activity: writing both would send it twice under two names.
/// </remarks>
internal static class TraceContext
{
    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";

    /// <summary>The transport's propagator: the two trace headers of the handler's Activity, nothing else.</summary>
    public static DistributedContextPropagator Propagator { get; } = new TraceHeadersPropagator();

    /// <summary>The Activity whose trace context the upstream gets, or null when the client's is forwarded (no W3C Activity).</summary>
    public static Activity? Current => Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity : null;

    /// <summary>Takes the client's trace headers off the upstream request, which gets the Activity's instead.</summary>
    /// <param name="client">The client's request headers.</param>
    /// <param name="upstream">The upstream request's headers, copied from the client's.</param>
    public static void RemoveClientHeaders(IHeaderDictionary client, HttpRequestHeaders upstream)
    {
        if (client.TraceParent.Count != 0)
        {
            upstream.Remove(TraceParent);
        }

        if (client.TraceState.Count != 0)
        {
            upstream.Remove(TraceState);
        }
    }

    /// <summary>Writes <paramref name="activity"/>'s trace context on <paramref name="message"/>.</summary>
    /// <remarks><see cref="Activity.Id"/> is made once per Activity and kept, so a retry writes the same string again.</remarks>
    public static void Inject(HttpRequestMessage message, Activity activity)
    {
        var headers = message.Headers;
        headers.TryAddWithoutValidation(TraceParent, activity.Id);
        if (activity.TraceStateString is { } state)
        {
            headers.TryAddWithoutValidation(TraceState, state);
        }
    }

    /// <summary>
    /// Writes only <c>traceparent</c> and <c>tracestate</c>, where the framework's propagators also write
    /// baggage (see the remarks of <see cref="TraceContext"/>). Extraction is ASP.NET Core's; the handler
    /// never extracts.
    /// </summary>
    private sealed class TraceHeadersPropagator : DistributedContextPropagator
    {
        private static readonly IReadOnlyCollection<string> HeaderNames = [TraceParent, TraceState];

        public override IReadOnlyCollection<string> Fields => HeaderNames;

        public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
        {
            if (activity is not { IdFormat: ActivityIdFormat.W3C, Id: { } id } || setter is null)
            {
                return;
            }

            setter(carrier, TraceParent, id);
            if (activity.TraceStateString is { } state)
            {
                setter(carrier, TraceState, state);
            }
        }

        public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
        {
            traceId = null;
            traceState = null;
        }

        public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) => null;
    }
}
