using System.Net;
using System.Net.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

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
internal sealed class ProxyHandler
{
    private readonly string _scheme;
    private readonly string? _prefix;
    private readonly string? _passPath;
    private readonly bool _preserveHost;
    private readonly RedirectRewriter? _redirects;
    private readonly ILogger _logger;

    /// <param name="group">The upstream group (or the group of one of a plain host).</param>
    /// <param name="pass">The location's <c>Pass</c> URL.</param>
    /// <param name="prefix">The location's prefix or exact path; null for a regex location.</param>
    /// <param name="options">The location's proxy options.</param>
    /// <param name="logger">For upstream failures.</param>
    public ProxyHandler(UpstreamGroup group, Uri pass, string? prefix, ProxyOptions options, ILogger logger)
    {
        Group = group;
        _scheme = pass.Scheme;

        // nginx: a Pass with any path part, even "/", replaces the location prefix.
        _passPath = Configuration.Rules.HasPathPart(pass.OriginalString) ? pass.AbsolutePath : null;
        _prefix = _passPath is null ? null : prefix;
        _preserveHost = options.PreserveHost;
        _redirects = options.RewriteRedirects ? new RedirectRewriter(pass.Scheme + "://" + pass.Authority, _passPath, _prefix) : null;
        _logger = logger;
    }

    /// <summary>The group the location forwards to.</summary>
    public UpstreamGroup Group { get; }

    public async Task HandleAsync(HttpContext context, string path)
    {
        var group = Group;
        var upgrade = WebSocketTunnel.UpgradeOf(context);
        List<UpstreamServer>? tried = null;
        var failure = AttemptFailure.None;
        for (var attempt = 0; attempt <= group.Options.Retries; attempt++)
        {
            var (server, admission) = await group.AcquireAsync(context, path, tried).ConfigureAwait(false);
            if (server is null)
            {
                AnswerUnadmitted(context, admission, failure);
                return;
            }

            StreamingRequestContent? content;
            try
            {
                (failure, content) = await ForwardAsync(context, path, server, upgrade).ConfigureAwait(false);
            }
            finally
            {
                group.Release(server);
            }

            if (failure is AttemptFailure.None or AttemptFailure.Client)
            {
                return;
            }

            if (server.ReportFailure(group.Time.GetTimestamp(), group.Time))
            {
                ProxyLog.UpstreamServerDown(_logger, group.Name, server.Name, group.Options.FailTimeout, group.Options.MaxFails);
            }

            var resendable = content is null || !content.Started;
            if (!resendable || failure == AttemptFailure.InvalidResponse
                || (!AttemptFailures.NothingSent(failure) && !IsIdempotent(context.Request.Method)))
            {
                break;
            }

            tried ??= new List<UpstreamServer>(2);
            tried.Add(server);
            if (attempt < group.Options.Retries)
            {
                ProxyLog.RetryingUpstream(_logger, group.Name, server.Name, attempt + 2);
            }
        }

        Answer(context, AttemptFailures.StatusCode(failure));
    }

    /// <summary>One attempt on <paramref name="server"/>; the failure, if any, is logged here.</summary>
    private async Task<(AttemptFailure, StreamingRequestContent?)> ForwardAsync(
        HttpContext context, string path, UpstreamServer server, string? upgrade)
    {
        var group = Group;
        var options = group.Options;
        using var message = CreateMessage(context, path, server, upgrade, out var content);

        // ReadTimeout bounds the wait for the response headers, then each read of the body (nginx's
        // proxy_read_timeout: between two successive reads). The client going away cancels it too.
        using var timeout = new CancellationTokenSource(options.ReadTimeout, group.Time);
        using var clientGone = context.RequestAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        content?.UseReadTimeout(timeout, options.ReadTimeout);
        HttpResponseMessage response;
        try
        {
            response = await group.Transport.Invoker.SendAsync(message, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var failure = AttemptFailures.Classify(ex, timeout.IsCancellationRequested, context.RequestAborted.IsCancellationRequested || content?.ClientError is not null);
            LogFailure(failure, server, ex);
            if (failure == AttemptFailure.Client && content?.ClientError is not null && !context.Response.HasStarted)
            {
                // The client's body broke off or was malformed: Kestrel's verdict on it, or 400.
                context.Response.StatusCode = content.ClientError is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
            }

            return (failure, content);
        }

        using (response)
        {
            server.ReportSuccess();
            if (upgrade is not null && response.StatusCode == HttpStatusCode.SwitchingProtocols)
            {
                await WebSocketTunnel.RunAsync(context, response, server, _logger, timeout.Token).ConfigureAwait(false);
                return (AttemptFailure.None, content);
            }

            await ProxyResponse.SendAsync(context, response, this, server, timeout, _logger).ConfigureAwait(false);
            return (AttemptFailure.None, content);
        }
    }

    /// <summary>Rewrites <c>Location</c> and <c>Refresh</c> when <c>RewriteRedirects</c> is on.</summary>
    public void RewriteRedirects(HttpContext context, UpstreamServer server)
    {
        _redirects?.Rewrite(context, server, _scheme);
    }

    private HttpRequestMessage CreateMessage(HttpContext context, string path, UpstreamServer server, string? upgrade, out StreamingRequestContent? content)
    {
        var request = context.Request;
        var uri = UpstreamUri.Build(server.Origin(_scheme), context, path, _prefix, _passPath);
        var message = new HttpRequestMessage(HttpMethodOf(request.Method), uri)
        {
            Version = HttpVersion.Version11,

            // A WebSocket handshake is HTTP/1.1 only (RFC 6455); HTTP/2 upstreams are not used yet.
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        content = null;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            content = new StreamingRequestContent(request.BodyReader, request.ContentLength, context.RequestAborted);
            message.Content = content;
        }

        ProxyHeaders.CopyRequestHeaders(context, message);
        ForwardedHeaders.Apply(context, message.Headers);
        if (_preserveHost)
        {
            message.Headers.Host = request.Host.Value;
        }

        if (upgrade is not null)
        {
            // Upgrade and Connection are hop-by-hop, so they were not copied: a tunnel asks for them anew.
            message.Headers.TryAddWithoutValidation(HeaderNames.Connection, "Upgrade");
            message.Headers.TryAddWithoutValidation(HeaderNames.Upgrade, upgrade);
        }

        return message;
    }

    private void LogFailure(AttemptFailure failure, UpstreamServer server, Exception ex)
    {
        var group = Group.Name;
        switch (failure)
        {
            case AttemptFailure.Client:
                ProxyLog.ClientAborted(_logger, group, server.Name);
                break;
            case AttemptFailure.ConnectFailed:
                ProxyLog.UpstreamRefused(_logger, group, server.Name, ex.InnerException?.Message ?? ex.Message, ex);
                break;
            case AttemptFailure.ConnectTimedOut:
                ProxyLog.UpstreamTimedOut(_logger, group, server.Name, $"no connection within ConnectTimeout {Group.Options.ConnectTimeout}");
                break;
            case AttemptFailure.TimedOut:
                ProxyLog.UpstreamTimedOut(_logger, group, server.Name, $"no response within ReadTimeout {Group.Options.ReadTimeout}");
                break;
            case AttemptFailure.InvalidResponse:
                ProxyLog.UpstreamInvalidResponse(_logger, group, server.Name, ex);
                break;
            default:
                ProxyLog.UpstreamFailed(_logger, group, server.Name, ex.InnerException?.Message ?? ex.Message, ex);
                break;
        }
    }

    private void AnswerUnadmitted(HttpContext context, AdmissionFailure admission, AttemptFailure lastFailure)
    {
        switch (admission)
        {
            case AdmissionFailure.AllTried:
                // Every server that is up failed this request already.
                Answer(context, AttemptFailures.StatusCode(lastFailure));
                break;
            case AdmissionFailure.NoLiveServer when lastFailure != AttemptFailure.None:
                Answer(context, AttemptFailures.StatusCode(lastFailure));
                break;
            case AdmissionFailure.NoLiveServer:
                ProxyLog.NoLiveUpstream(_logger, Group.Name);
                Answer(context, StatusCodes.Status502BadGateway);
                break;
            case AdmissionFailure.QueueFull:
                ProxyLog.UpstreamQueueRejected(_logger, Group.Name, "the queue is full");
                Answer(context, StatusCodes.Status503ServiceUnavailable);
                break;
            case AdmissionFailure.QueueTimeout:
                ProxyLog.UpstreamQueueRejected(_logger, Group.Name, "the wait reached QueueTimeout");
                Answer(context, StatusCodes.Status503ServiceUnavailable);
                break;
        }
    }

    /// <summary>A short plain-text error, as nginx's error pages but without HTML.</summary>
    private static void Answer(HttpContext context, int statusCode)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        ProxyErrorBody.Write(context.Response, statusCode);
    }

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
