using System.Diagnostics;

namespace ProductionServing.Proxy;

/// <summary>
/// Whether anyone observes the framework's outgoing-request tracing (the <c>System.Net.Http</c>
/// ActivitySource, or the legacy <c>HttpHandlerDiagnosticListener</c>). SocketsHttpHandler creates an
/// Activity for every request made while an Activity is current, and ASP.NET Core makes one for every
/// incoming request as soon as logging scopes or tracing are on: for a forwarded request that no one
/// observes, that Activity is garbage (docs/performance.md, "Upstream forwarding", has the measured cost). Forwarding
/// then runs without the current Activity, and <see cref="TraceContext"/> writes the request Activity's
/// trace context itself.
/// </summary>
internal static class HttpClientTracing
{
    private const string ListenerName = "HttpHandlerDiagnosticListener";

    // Same name as the handler's source: a listener that wants "System.Net.Http" is asked about this
    // instance too, so its HasListeners tells whether the handler's source has listeners.
    private static readonly ActivitySource Probe = new("System.Net.Http");
    private static DiagnosticListener? s_legacy;

    private static ExecutionContext? s_empty;

    static HttpClientTracing()
    {
        DiagnosticListener.AllListeners.Subscribe(new LegacyListenerFinder());

        // A work item queued without flowing the context runs in the empty one: capture it there, without
        // blocking (until it is set, callers clear Activity.Current instead).
        ThreadPool.UnsafeQueueUserWorkItem(static _ => Volatile.Write(ref s_empty, ExecutionContext.Capture()), null);
    }

    /// <summary>The execution context with no async-local values (so no current Activity), once known.</summary>
    public static ExecutionContext? EmptyContext => Volatile.Read(ref s_empty);

    /// <summary>
    /// True when an ActivityListener or a DiagnosticListener subscriber wants outgoing HTTP requests, and
    /// the handler makes Activities at all (the app may turn that off with the
    /// <c>System.Net.Http.EnableActivityPropagation</c> switch; then the handler writes no trace headers either).
    /// </summary>
    public static bool IsObserved => HandlerTraces && (Probe.HasListeners() || Volatile.Read(ref s_legacy)?.IsEnabled() == true);

    /// <summary>SocketsHttpHandler's own reading of the switch and of its environment variable (DiagnosticsHandler.IsGloballyEnabled).</summary>
    private static bool HandlerTraces { get; } = ReadHandlerTraces();

    private static bool ReadHandlerTraces()
    {
        if (AppContext.TryGetSwitch("System.Net.Http.EnableActivityPropagation", out var enabled))
        {
            return enabled;
        }

        var variable = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_HTTP_ENABLEACTIVITYPROPAGATION");
        return !(variable == "0" || string.Equals(variable, "false", StringComparison.OrdinalIgnoreCase));
    }

    private sealed class LegacyListenerFinder : IObserver<DiagnosticListener>
    {
        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == ListenerName)
            {
                Volatile.Write(ref s_legacy, value);
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
