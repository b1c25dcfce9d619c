using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using ProductionServing.Diagnostics;
using ProductionServing.Directives;

namespace ProductionServing.Proxy;

/// <summary>
/// A compiled <c>Proxy</c> location: forwards the request to a server of its upstream group.
/// </summary>
/// <remarks>
/// One request:
/// 1. Acquire a server from the group (balancing, health, <c>MaxConnections</c> with its bounded queue).
/// 2. Send the request with the body streamed from the client; wait for the response headers at most
///    <c>ReadTimeout</c>.
/// 3. On a failure before the response (refused, reset, timed out), count it against the server's
///    health and try another server when the request can be sent again: up to <c>Retries</c> more,
///    any method when nothing was sent (the connection failed), otherwise idempotent methods whose body
///    was not read yet. The last failure answers 502 or 504.
/// 4. Copy the status and headers, then stream the body as it arrives. A failure from here on aborts the
///    client connection: a truncated response must not look complete.
/// </remarks>
internal sealed class ProxyHandler : LocationHandler
{
    private const int UriCacheLimit = 1024;
    private const int UriCacheMaxTarget = 512;

    private readonly UpstreamGroup _group;
    private readonly string _scheme;
    private readonly string? _prefix;
    private readonly string? _passPath;
    private readonly bool _preserveHost;
    private readonly RedirectRewriter? _redirects;
    private readonly UpstreamHeaders? _setHeaders;
    private readonly ConcurrentDictionary<UriKey, Uri> _uris = new();
    private int _uriCount;

    /// <param name="group">The upstream group (or the group of one of a plain host).</param>
    /// <param name="pass">The location's <c>Pass</c> URL.</param>
    /// <param name="prefix">The location's prefix or exact path; null for a regex location.</param>
    /// <param name="options">The location's proxy options.</param>
    /// <param name="captures">How many groups the location's regex has, for <c>SetHeaders</c> values.</param>
    public ProxyHandler(UpstreamGroup group, Uri pass, string? prefix, ProxyOptions options, int captures)
    {
        _setHeaders = UpstreamHeaders.Compile(options.SetHeaders, captures);
        _group = group;
        _scheme = pass.Scheme;

        // nginx: a Pass with any path part, even "/", replaces the location prefix.
        _passPath = Configuration.Rules.HasPathPart(pass.OriginalString) ? pass.AbsolutePath : null;
        _prefix = _passPath is null ? null : prefix;
        _preserveHost = options.PreserveHost;
        _redirects = options.RewriteRedirects ? new RedirectRewriter(pass.Scheme + "://" + pass.Authority, _passPath, _prefix, pass.Scheme) : null;
    }

    public override ServingHandler Kind => ServingHandler.Proxy;

    public override int HighestCapture => _setHeaders?.HighestCapture ?? 0;

    /// <summary>The upstream group it forwards to.</summary>
    public UpstreamGroup Group => _group;

    /// <summary>
    /// Forwards the request. A server is usually free at once: then the whole exchange is one async
    /// method (one allocation for its state), and only a wait in the <c>MaxConnections</c> queue adds another.
    /// </summary>
    public override Task HandleAsync(ServingRequest request)
    {
        var context = request.Context;
        var upgrade = WebSocketTunnel.HandshakeOf(context);
        var admission = _group.AcquireAsync(context, request.Path, tried: null);
        if (!admission.IsCompletedSuccessfully)
        {
            return WaitThenRunAsync(request, upgrade, admission);
        }

        var (server, failure) = admission.Result;
        if (server is null)
        {
            return AnswerUnadmitted(context, failure, AttemptFailure.None, null);
        }

        return RunAsync(context, request.Path, request.Captures, request.UriChanged, request.HandedOff, upgrade, server, AttemptObserver.For(request, _group), request.Snapshot.TrustedProxies);
    }

    private async Task WaitThenRunAsync(ServingRequest request, WebSocketHandshake upgrade,
        ValueTask<(UpstreamServer? Server, AdmissionFailure Failure)> admission)
    {
        var (server, failure) = await admission.ConfigureAwait(false);
        if (server is null)
        {
            await AnswerUnadmitted(request.Context, failure, AttemptFailure.None, null).ConfigureAwait(false);
            return;
        }

        await RunAsync(request.Context, request.Path, request.Captures, request.UriChanged, request.HandedOff, upgrade, server, AttemptObserver.For(request, _group), request.Snapshot.TrustedProxies)
            .ConfigureAwait(false);
    }

    /// <summary>The attempts, the first on <paramref name="server"/> (acquired), the rest on servers acquired here.</summary>
    /// <remarks>
    /// Takes the parts of the <see cref="ServingRequest"/> it uses, not the value: its state lives on the
    /// heap for the whole exchange, and every field it holds is allocated with it. For the same reason the
    /// group and its settings are read through <c>this</c> rather than kept in locals.
    /// </remarks>
    private async Task RunAsync(HttpContext context, string path, Match? captures, bool uriChanged, bool handedOff, WebSocketHandshake upgrade,
        UpstreamServer server, AttemptObserver? observer, ClientNetworks? trustedProxies)
    {
        List<UpstreamServer>? tried = null;
        var lastFailure = AttemptFailure.None;
        Exception? lastError = null;
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > 0)
            {
                var (next, admission) = await _group.AcquireAsync(context, path, tried).ConfigureAwait(false);
                if (next is null)
                {
                    await AnswerUnadmitted(context, admission, lastFailure, lastError).ConfigureAwait(false);
                    return;
                }

                server = next;
            }

            observer?.Started(server);
            var failure = AttemptFailure.None;
            StreamingRequestContent? content = null;
            try
            {
                using var message = CreateMessage(context, path, captures, uriChanged, handedOff, server, upgrade, observer, trustedProxies, out content);

                // ReadTimeout bounds the wait for the response headers, then each read of the body
                // (nginx's proxy_read_timeout: between two successive reads). The client going away cancels it too.
                // Pooled only without a request body: a body send SocketsHttpHandler leaves running after a
                // failed attempt still holds the source, which must then not belong to another request.
                var timeout = content is null ? _group.Timeouts.Rent() : new CancellationTokenSource(Timeout.InfiniteTimeSpan, _group.Time);
                var clientGone = context.RequestAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
                content?.UseReadTimeout(timeout, _group.Settings.ReadTimeout);
                try
                {
                    timeout.CancelAfter(_group.Settings.ReadTimeout);
                    HttpResponseMessage? response = null;
                    try
                    {
                        response = await SendAsync(_group.Transport.Invoker, message, timeout.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        failure = Failed(context, server, ex, content, timeout);
                        lastError = ex;
                    }

                    if (response is not null)
                    {
                        observer?.HeadersReceived(context, response);
                        using (response)
                        {
                            if (IsTunnel(upgrade, response))
                            {
                                await WebSocketTunnel.RunAsync(context, response, upgrade, server, _group.Logger, timeout.Token).ConfigureAwait(false);
                            }
                            else if (ProxyResponse.TryStart(context, response, _group, server, _redirects, timeout))
                            {
                                observer?.ResponseStarting(context.Response);
                                await ProxyResponse.SendBodyAsync(context, response, _group, server, timeout).ConfigureAwait(false);
                            }
                        }

                        observer?.Ended(context, IsTunnel(upgrade, response));
                        return;
                    }
                }
                finally
                {
                    clientGone.Dispose();
                    if (content is null)
                    {
                        _group.Timeouts.Return(timeout);
                    }
                    else
                    {
                        // After a failure SocketsHttpHandler may leave the body's send running, parked on
                        // the client's pipe, which Kestrel reuses for the next request: end it.
                        timeout.Cancel();
                        timeout.Dispose();
                    }
                }
            }
            finally
            {
                _group.Release(server);
            }

            // A client that broke off its body gets Kestrel's verdict (413 over MaxRequestBodySize, …) or
            // 400; one that went away gets nothing.
            var clientError = failure == AttemptFailure.Client && !context.RequestAborted.IsCancellationRequested ? content?.ClientError : null;
            observer?.Failed(context.Response, clientError is not null ? ErrorTypes.Of(BodyErrorOf(clientError))
                : failure == AttemptFailure.Client ? ErrorTypes.ClientAborted
                : ErrorTypes.Of(AttemptFailures.ErrorOf(failure)));
            if (failure == AttemptFailure.Client)
            {
                if (clientError is not null)
                {
                    await AnswerBodyError(context, clientError).ConfigureAwait(false);
                }

                return;
            }

            if (failure == AttemptFailure.Unsendable)
            {
                await Answer(context, AttemptFailure.Unsendable, lastError).ConfigureAwait(false);
                return;
            }

            lastFailure = failure;
            _group.CountFailure(server);

            var resendable = content is null || !content.Started;
            if (attempt >= _group.Settings.Retries || !resendable || failure == AttemptFailure.InvalidResponse
                || (!AttemptFailures.NothingSent(failure) && !IsIdempotent(context.Request.Method)))
            {
                await Answer(context, failure, lastError).ConfigureAwait(false);
                return;
            }

            tried ??= new List<UpstreamServer>(2);
            tried.Add(server);
            ProxyLog.RetryingUpstream(_group.Logger, _group.Name, server.Name, attempt + 2);
        }
    }

    private static bool IsTunnel(WebSocketHandshake upgrade, HttpResponseMessage response) =>
        upgrade != WebSocketHandshake.None && response.StatusCode == HttpStatusCode.SwitchingProtocols;

    /// <summary>What a client whose body failed is answered: Kestrel refused it as too large (its <c>MaxRequestBodySize</c>), or it is malformed or cut off.</summary>
    private static ServingError BodyErrorOf(Exception clientError) =>
        clientError is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } ? ServingError.RequestBodyTooLarge : ServingError.InvalidRequestBody;

    /// <summary>Answers a client whose body failed with 413 when it was too large, else with Kestrel's status for it, or 400.</summary>
    private static Task AnswerBodyError(HttpContext context, Exception clientError)
    {
        var error = BodyErrorOf(clientError);
        return error == ServingError.RequestBodyTooLarge
            ? ErrorResponse.Answer(context, error, clientError)
            : ErrorResponse.Answer(context, error, clientError is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest, clientError);
    }

    /// <summary>Classifies and logs a failed send.</summary>
    private AttemptFailure Failed(HttpContext context, UpstreamServer server, Exception ex, StreamingRequestContent? content, CancellationTokenSource timeout)
    {
        var failure = AttemptFailures.Classify(ex, timeout.IsCancellationRequested, context.RequestAborted.IsCancellationRequested || content?.ClientError is not null);
        LogFailure(failure, server, ex);
        return failure;
    }

    /// <summary>
    /// Sends with the request's trace context (<see cref="TraceContext"/>). When no one observes outgoing
    /// HTTP tracing (<see cref="HttpClientTracing"/>), the request Activity's context is written here and
    /// the send starts without a current Activity, so the handler makes none of its own: the send starts
    /// in the empty execution context, which the handler captures for its continuations, and the caller's
    /// context, with the Activity its logs carry, is restored before this returns. Restoring a captured
    /// context allocates nothing, where setting <see cref="Activity.Current"/> to null would make a new one
    /// per request.
    /// </summary>
    private static Task<HttpResponseMessage> SendAsync(HttpMessageInvoker invoker, HttpRequestMessage message, CancellationToken cancellationToken)
    {
        var activity = Activity.Current;
        if (activity is null || HttpClientTracing.IsObserved)
        {
            // Observed: the handler's Activity, a child of the request's, is written by TraceContext.Propagator.
            return invoker.SendAsync(message, cancellationToken);
        }

        if (activity.IdFormat == ActivityIdFormat.W3C)
        {
            TraceContext.Inject(message, activity);
        }

        if (ExecutionContext.Capture() is not { } caller)
        {
            return invoker.SendAsync(message, cancellationToken);
        }

        if (HttpClientTracing.EmptyContext is { } empty)
        {
            ExecutionContext.Restore(empty);
        }
        else
        {
            Activity.Current = null;
        }

        try
        {
            return invoker.SendAsync(message, cancellationToken);
        }
        finally
        {
            ExecutionContext.Restore(caller);
        }
    }

    /// <summary>
    /// The upstream URI, from the cache when this server was sent this target before: a
    /// <see cref="Uri"/> and the strings SocketsHttpHandler takes from it are allocated per request
    /// otherwise, and most traffic repeats a few hundred targets. The cache holds at most
    /// <see cref="UriCacheLimit"/> entries (client-chosen keys must not grow memory), each target
    /// at most <see cref="UriCacheMaxTarget"/> characters; a reload starts a new one.
    /// </summary>
    private Uri UpstreamUriFor(HttpContext context, string path, bool uriChanged, UpstreamServer server)
    {
        // A request whose URI an internal redirect or an error handler changed goes upstream under its
        // new path, rebuilt from Request.Path and Request.QueryString (nginx: "the complete normalized
        // request URI is passed when processing the changed URI"), not as the client's raw target.
        var target = uriChanged || Routing.RequestPath.IsReExecuted(context) ? null : context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target) || target.Length > UriCacheMaxTarget)
        {
            return UpstreamUri.Build(server.Origin(_scheme), target, context, path, _prefix, _passPath);
        }

        var key = new UriKey(server, target);
        if (_uris.TryGetValue(key, out var uri))
        {
            return uri;
        }

        uri = UpstreamUri.Build(server.Origin(_scheme), target, context, path, _prefix, _passPath);
        if (Interlocked.Increment(ref _uriCount) > UriCacheLimit)
        {
            // Full (a scan of junk targets fills it as well as real traffic): start again rather than
            // stop caching until the next reload.
            _uris.Clear();
            Volatile.Write(ref _uriCount, 1);
        }

        _uris.TryAdd(key, uri);

        return uri;
    }

    private UpstreamRequestMessage CreateMessage(HttpContext context, string path, Match? captures, bool uriChanged, bool handedOff, UpstreamServer server,
        WebSocketHandshake upgrade, AttemptObserver? observer, ClientNetworks? trustedProxies, out StreamingRequestContent? content)
    {
        var request = context.Request;
        var uri = UpstreamUriFor(context, path, uriChanged, server);
        var message = new UpstreamRequestMessage(HttpMethodOf(request.Method), uri, observer?.Ticket())
        {
            Version = HttpVersion.Version11,

            // A WebSocket handshake is HTTP/1.1 only (RFC 6455); HTTP/2 upstreams are not used yet.
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        content = null;

        // A WebSocket handshake has no body: what follows it (an HTTP/2 stream's data) is the tunnel's.
        // After an X-Accel-Redirect the body was the app's, and what is forwarded is a GET.
        if (upgrade == WebSocketHandshake.None && !handedOff
            && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            content = new StreamingRequestContent(request.BodyReader, request.ContentLength, context.RequestAborted);
            message.Content = content;
        }

        ProxyHeaders.CopyRequestHeaders(context, message);
        if (TraceContext.Current is not null)
        {
            TraceContext.RemoveClientHeaders(request.Headers, message.Headers);
        }

        ForwardedHeaders.Apply(context, message.Headers, trustedProxies);
        if (_preserveHost)
        {
            message.Headers.Host = request.Host.Value;
        }

        // nginx's proxy_set_header comes after the forwarding headers, and may replace them.
        _setHeaders?.Apply(message, new VariableScope(context, path, captures));
        if (upgrade != WebSocketHandshake.None)
        {
            WebSocketTunnel.PrepareUpstreamRequest(message, upgrade);
        }

        return message;
    }

    private void LogFailure(AttemptFailure failure, UpstreamServer server, Exception ex)
    {
        var group = _group;
        var logger = group.Logger;
        switch (failure)
        {
            case AttemptFailure.Client:
                ProxyLog.ClientAborted(logger, group.Name, server.Name);
                break;
            case AttemptFailure.ConnectFailed:
                ProxyLog.UpstreamRefused(logger, group.Name, server.Name, ProxyLog.ErrorOf(ex), ex);
                break;
            case AttemptFailure.ConnectTimedOut:
                ProxyLog.UpstreamConnectTimedOut(logger, group.Name, server.Name, group.Settings.ConnectTimeout);
                break;
            case AttemptFailure.TimedOut:
                ProxyLog.UpstreamTimedOut(logger, group.Name, server.Name, group.Settings.ReadTimeout);
                break;
            case AttemptFailure.Unsendable:
                ProxyLog.UpstreamRequestUnsendable(logger, group.Name, server.Name, ex);
                break;
            case AttemptFailure.InvalidResponse:
                ProxyLog.UpstreamInvalidResponse(logger, group.Name, server.Name, ex);
                break;
            default:
                ProxyLog.UpstreamFailed(logger, group.Name, server.Name, ProxyLog.ErrorOf(ex), ex);
                break;
        }
    }

    private Task AnswerUnadmitted(HttpContext context, AdmissionFailure admission, AttemptFailure lastFailure, Exception? lastError)
    {
        if (lastFailure != AttemptFailure.None)
        {
            // A retry found no other server: the client learns what went wrong with the one that was tried.
            return Answer(context, lastFailure, lastError);
        }

        var group = _group;
        switch (admission)
        {
            case AdmissionFailure.NoLiveServer:
                ProxyLog.NoLiveUpstream(group.Logger, group.Name);
                return Reject(context, ServingError.NoLiveUpstream);
            case AdmissionFailure.QueueFull:
                ProxyLog.UpstreamQueueRejected(group.Logger, group.Name, admission);
                return Reject(context, ServingError.UpstreamQueueFull);
            case AdmissionFailure.QueueTimeout:
                ProxyLog.UpstreamQueueRejected(group.Logger, group.Name, admission);
                return Reject(context, ServingError.UpstreamQueueTimeout);

            // Canceled: the client is gone, there is no one to answer. AllTried cannot happen on a first attempt.
            default:
                return Task.CompletedTask;
        }
    }

    /// <summary>Answers a request no server was given to, and counts it.</summary>
    private Task Reject(HttpContext context, ServingError error)
    {
        _group.Metrics.UpstreamRejected(_group.Name, ErrorTypes.Of(error));
        return Answer(context, error, null);
    }

    private static Task Answer(HttpContext context, AttemptFailure failure, Exception? exception) =>
        Answer(context, AttemptFailures.ErrorOf(failure), exception);

    /// <summary>Answers unless the client is gone: there is no one to answer then.</summary>
    private static Task Answer(HttpContext context, ServingError error, Exception? exception) =>
        context.RequestAborted.IsCancellationRequested ? Task.CompletedTask : ErrorResponse.Answer(context, error, exception);

    /// <summary>A request target as sent to one server.</summary>
    private readonly record struct UriKey(UpstreamServer Server, string Target);

    /// <summary>RFC 9110 §9.2.2; TRACE included.</summary>
    private static bool IsIdempotent(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)
        || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method) || HttpMethods.IsTrace(method);

    /// <summary>The shared <see cref="HttpMethod"/> instances for common methods, so they are not allocated per request.</summary>
    private static HttpMethod HttpMethodOf(string method) => method switch
    {
        _ when HttpMethods.IsGet(method) => HttpMethod.Get,
        _ when HttpMethods.IsPost(method) => HttpMethod.Post,
        _ when HttpMethods.IsHead(method) => HttpMethod.Head,
        _ when HttpMethods.IsPut(method) => HttpMethod.Put,
        _ when HttpMethods.IsDelete(method) => HttpMethod.Delete,
        _ when HttpMethods.IsOptions(method) => HttpMethod.Options,
        _ when HttpMethods.IsPatch(method) => HttpMethod.Patch,
        _ => HttpMethod.Parse(method),
    };
}
