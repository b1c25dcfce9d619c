using System.Diagnostics;

namespace ProductionServing.Proxy;

/// <summary>
/// Whether anyone observes the framework's outgoing-request tracing (the <c>System.Net.Http</c>
/// ActivitySource, or the legacy <c>HttpHandlerDiagnosticListener</c>). SocketsHttpHandler creates an
/// Activity for every request made while an Activity is current, and ASP.NET Core makes one for every
/// incoming request as soon as logging scopes or tracing are on: for a forwarded request that no one
/// observes (and whose trace headers we do not write; the client's are forwarded) that Activity is
/// garbage (README, "Upstream forwarding", has the measured cost). Forwarding then runs without the
/// current Activity.
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

    /// <summary>True when an ActivityListener or a DiagnosticListener subscriber wants outgoing HTTP requests.</summary>
    public static bool IsObserved => Probe.HasListeners() || Volatile.Read(ref s_legacy)?.IsEnabled() == true;

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
