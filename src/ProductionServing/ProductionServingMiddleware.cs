using System.Text.RegularExpressions;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using ProductionServing.Configuration;
using ProductionServing.Diagnostics;
using ProductionServing.Directives;
using ProductionServing.Routing;

namespace ProductionServing;

/// <summary>
/// The request flow: normalize the path, select the location (nginx's rules), then hand the request to
/// the location's handler. Internal redirects (a <c>TryFiles</c> path, an app's <c>X-Accel-Redirect</c>,
/// the <c>@app</c> fallback) come back here and go through the same selection and dispatch.
/// </summary>
internal sealed class ProductionServingMiddleware
{
    /// <summary>nginx's limit on internal redirects per request (NGX_HTTP_MAX_URI_CHANGES in ngx_http_request.h).</summary>
    internal const int MaxInternalRedirects = 10;

    private readonly ServingConfigHolder _holder;
    private readonly RequestObserver _observer;
    private readonly ILogger<ProductionServingMiddleware> _logger;

    public ProductionServingMiddleware(RequestDelegate next, ServingConfigHolder holder, RequestObserver observer,
        ILogger<ProductionServingMiddleware> logger)
    {
        Next = next;
        _holder = holder;
        _observer = observer;
        _logger = logger;
    }

    /// <summary>The rest of the pipeline: the app.</summary>
    public RequestDelegate Next { get; }

    public Task Invoke(HttpContext context)
    {
        var snapshot = _holder.Current;
        var start = _observer.Time.GetTimestamp();
        var record = snapshot.RecordsRequests ? new RequestRecord(start) : null;
        snapshot.AccessLog?.Begin(context, record!);
        Task served;
        bool statusPage;
        try
        {
            served = Serve(context, snapshot, record, out statusPage);
        }
        catch
        {
            _observer.Ended(context, start, record, threw: true);
            throw;
        }

        // The status page's own requests are not counted: its polling would be most of a quiet server's traffic.
        if (statusPage)
        {
            return served;
        }

        if (served.IsCompletedSuccessfully)
        {
            _observer.Ended(context, start, record, threw: false);
            return served;
        }

        return _observer.Observes(context, record) ? EndWhenDoneAsync(served, context, start, record) : served;
    }

    /// <summary>The slow branch: the request's end is observed once its handler (or the app) has ended.</summary>
    private async Task EndWhenDoneAsync(Task served, HttpContext context, long start, RequestRecord? record)
    {
        try
        {
            await served.ConfigureAwait(false);
        }
        catch
        {
            _observer.Ended(context, start, record, threw: true);
            throw;
        }

        _observer.Ended(context, start, record, threw: false);
    }

    private Task Serve(HttpContext context, ServingSnapshot snapshot, RequestRecord? record, out bool statusPage)
    {
        statusPage = false;
        if (!RequestPath.TryGetMatchPath(context, out var path))
        {
            RoutingLog.RequestTargetRejected(_logger, context.Features.Get<IHttpRequestFeature>()?.RawTarget);
            return ErrorResponse.Answer(context, ServingError.InvalidRequestTarget);
        }

        // The status page is matched before every configured location (docs/observability.md, "Status page"), for the clients it
        // allows; for anyone else its paths go on to the locations, as if it did not exist.
        if (snapshot.Status is { } status && status.TryServe(context, path, snapshot, _observer.Status, out var page))
        {
            statusPage = true;
            return page;
        }

        if (!TrySelect(snapshot, path, out var location, out var captures))
        {
            return ErrorResponse.Answer(context, ServingError.RegexTimeout);
        }

        if (location.Internal)
        {
            RoutingLog.InternalLocationRequested(_logger, location.Feature.Match);
            return ErrorResponse.Answer(context, ServingError.InternalLocation);
        }

        var request = new ServingRequest(context, path, location, captures, snapshot, this, redirects: 0, handedOff: false, record);

        // Headers are set as the response starts, from the location that finally serves the request; hooked
        // before anything can answer, so the directives' own refusals get them too. The access log and
        // metrics observe the request's end in Invoke.
        if (snapshot.HasResponseHeaders)
        {
            ResponseHeaders.Hook(request);
        }

        return Dispatch(request);
    }

    /// <summary>
    /// An internal redirect (nginx's <c>ngx_http_internal_redirect</c>): <paramref name="path"/> (normalized)
    /// is matched again, internal locations included, and served by whatever handler its location has.
    /// The request's path and query become the target's, as nginx replaces <c>$uri</c> and <c>$args</c>.
    /// </summary>
    /// <param name="from">The request as it is now.</param>
    /// <param name="path">The normalized target path.</param>
    /// <param name="query">The target's query with its '?', or empty.</param>
    /// <param name="handedOff">Whether an app's <c>X-Accel-Redirect</c> leads here.</param>
    /// <returns>The task of the response.</returns>
    public Task RedirectAsync(in ServingRequest from, string path, string query, bool handedOff)
    {
        var context = from.Context;
        if (!TryCountRedirect(from, path, out var redirects))
        {
            return ErrorResponse.Answer(context, ServingError.RedirectLoop);
        }

        return TrySelect(from.Snapshot, path, out var location, out var captures)
            ? Enter(from, path, query, redirects, location, captures, handedOff)
            : ErrorResponse.Answer(context, ServingError.RegexTimeout);
    }

    /// <summary>
    /// nginx's index module: a folder's index file is an internal redirect to its path, which matters when that path
    /// selects another location (<c>index.php</c>, which a regex location forwards). Null when the file is this
    /// location's to send: the path selects it again, or no location (nginx serves it from the server's root).
    /// </summary>
    /// <param name="from">The request for the folder.</param>
    /// <param name="path">The index file's path.</param>
    /// <returns>The task of the redirected response, or null.</returns>
    public Task? RedirectToIndexElsewhere(in ServingRequest from, string path)
    {
        if (!TrySelect(from.Snapshot, path, out var location, out var captures))
        {
            return ErrorResponse.Answer(from.Context, ServingError.RegexTimeout);
        }

        if (ReferenceEquals(location, from.Location) || ReferenceEquals(location, from.Snapshot.Unmatched))
        {
            return null;
        }

        return TryCountRedirect(from, path, out var redirects)
            ? Enter(from, path, from.Context.Request.QueryString.Value ?? "", redirects, location, captures, handedOff: false)
            : ErrorResponse.Answer(from.Context, ServingError.RedirectLoop);
    }

    private Task Enter(in ServingRequest from, string path, string query, int redirects, Location location, Match? captures, bool handedOff)
    {
        var context = from.Context;
        var request = context.Request;
        request.Path = new PathString(path);
        request.QueryString = new QueryString(query.Length == 0 ? null : query);
        return Dispatch(new ServingRequest(context, path, location, captures, from.Snapshot, this, redirects, handedOff || from.HandedOff, from.Record));
    }

    /// <summary>
    /// <c>TryFiles</c>' <c>@app</c>: the app through the default pool, with the request as it is (nginx's
    /// named location, which keeps the URI and counts as an internal redirect). The app's responses keep the
    /// location's <c>Headers</c>.
    /// </summary>
    public Task FallBackToAppAsync(in ServingRequest from)
    {
        if (!TryCountRedirect(from, from.Path, out var redirects))
        {
            return ErrorResponse.Answer(from.Context, ServingError.RedirectLoop);
        }

        var fallback = from.Location.AppFallback ?? from.Snapshot.AppFallback;
        return Dispatch(new ServingRequest(from.Context, from.Path, fallback, from.Captures, from.Snapshot, this, redirects, from.HandedOff, from.Record));
    }

    /// <summary>
    /// nginx's <c>X-Accel-Redirect</c>: the app answered with a path to serve instead of its own body. The
    /// app's body headers describe the body that was discarded and go; its other headers
    /// (<c>Content-Disposition</c>, <c>Set-Cookie</c>, <c>Cache-Control</c>, …) stay, as nginx keeps them.
    /// </summary>
    /// <param name="from">The request the app answered.</param>
    /// <param name="target">The header's value: a path, with a query or not, percent-encoded.</param>
    /// <returns>The task of the response.</returns>
    public Task HandOffAsync(in ServingRequest from, string target)
    {
        var context = from.Context;
        var response = context.Response;
        var headers = response.Headers;
        headers.Remove(HeaderNames.ContentLength);
        headers.Remove(HeaderNames.ContentType);
        headers.Remove(HeaderNames.ContentEncoding);
        headers.Remove(HeaderNames.ContentRange);
        headers.Remove(HeaderNames.ETag);
        headers.Remove(HeaderNames.LastModified);
        headers.Remove(HeaderNames.TransferEncoding);
        response.StatusCode = StatusCodes.Status200OK;

        // The app has taken the body; what is served now answers a GET (nginx turns every method but
        // HEAD into GET for the handoff), so a POST that authorizes a download gets the file.
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            context.Request.Method = HttpMethods.Get;
        }

        var question = target.IndexOf('?', StringComparison.Ordinal);
        if (!RequestPath.TryNormalizeHandoff(question < 0 ? target : target.AsSpan(0, question), out var path))
        {
            RoutingLog.AccelRedirectUnsafe(_logger, target);
            return ErrorResponse.Answer(context, ServingError.UnsafeRedirect);
        }

        return RedirectAsync(from, path, question < 0 ? "" : target[question..], handedOff: true);
    }

    /// <summary>
    /// The location's directives in nginx's order (its access phase, then <c>limit_req</c>, then the body: <c>Allow</c>, then <c>RateLimit</c>, then
    /// <c>MaxBodySize</c>), then its handler. An internal redirect comes through here too and meets the target's
    /// <c>Allow</c> and <c>MaxBodySize</c>, as nginx runs its access phase again for the new location; <c>RateLimit</c>
    /// counts a request once, as nginx's <c>limit_req</c> does (it skips a request whose
    /// <c>r->main->limit_req_status</c> is set), so the target counts it only when no location before it did.
    /// </summary>
    private Task Dispatch(ServingRequest request)
    {
        var context = request.Context;
        var location = request.Location;
        context.Features.Set(location.Feature);
        if (request.Redirects > 0)
        {
            // The location an internal redirect leads to decides on compression, never two at once.
            CompressingResponseBody.Withdraw(context);
        }

        var directives = location.Directives;
        if (directives is not null)
        {
            directives.Headers?.Remember(request);
            if (!directives.Allows(context))
            {
                RoutingLog.ClientForbidden(_logger, context.Connection.RemoteIpAddress, location.Feature.Match);
                return ErrorResponse.Answer(context, ServingError.ClientForbidden);
            }
        }

        if (location.RateLimit is { } rateLimit && (request.Redirects == 0 || !RequestRateLimit.Counted(context)))
        {
            var admission = rateLimit.AcquireAsync(context, request.Variables);
            if (!admission.IsCompletedSuccessfully)
            {
                return HandleWhenAdmittedAsync(admission, request);
            }

            using var lease = admission.Result;
            if (!lease.IsAcquired)
            {
                return RefuseRateLimited(request, lease);
            }
        }

        return Handle(request);
    }

    /// <summary>
    /// <c>MaxBodySize</c>, the last directive before the handler, then the handler, its response compressed as it
    /// flows when the location has <c>Compress</c> (a static location compresses its cached files once, when it
    /// loads them).
    /// </summary>
    private Task Handle(in ServingRequest request)
    {
        var context = request.Context;
        var location = request.Location;
        var directives = location.Directives;
        if (directives?.MaxBodySize is not null)
        {
            if (!directives.AdmitsBody(context))
            {
                RoutingLog.RequestBodyTooLarge(_logger, context.Request.ContentLength, directives.MaxBodySize, location.Feature.Match);
                // The body is not read: the connection ends with the answer instead of draining it, as nginx
                // closes a keepalive connection after its 413.
                return ErrorResponse.Answer(context, ServingError.RequestBodyTooLarge, closeConnection: true);
            }
        }
        else if (request.Redirects > 0)
        {
            LocationDirectives.RestoreServerBodyLimit(context);
        }

        return location.Compress is not { } compress || location.Handler.Kind == ServingHandler.Static
            ? location.Handler.HandleAsync(request)
            : CompressingResponseBody.ServeAsync(request, compress);
    }

    /// <summary>
    /// A request that <c>RateLimit</c> delays (<c>Delay: true</c>) waits for its turn, then goes on to the handler.
    /// A client that goes away meanwhile ends it with <see cref="OperationCanceledException"/>, as the pools'
    /// queue does: its place is given back, and nothing is answered or counted as refused.
    /// </summary>
    private async Task HandleWhenAdmittedAsync(ValueTask<RateLimitLease> admission, ServingRequest request)
    {
        using (var lease = await admission.ConfigureAwait(false))
        {
            if (!lease.IsAcquired)
            {
                await RefuseRateLimited(request, lease).ConfigureAwait(false);
                return;
            }
        }

        await Handle(request).ConfigureAwait(false);
    }

    private Task RefuseRateLimited(in ServingRequest request, RateLimitLease lease)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        var match = request.Location.Feature.Match;
        _observer.Metrics.RateLimitRejected(match);
        RoutingLog.RequestRateLimited(_logger, match, retryAfter);
        return ErrorResponse.TooManyRequests(request.Context, retryAfter);
    }

    /// <summary>Selects the location for <paramref name="path"/>; false when a regex timed out (nginx answers 500 when a location regex fails).</summary>
    private bool TrySelect(ServingSnapshot snapshot, string path, out Location location, out Match? captures)
    {
        try
        {
            captures = null;
            location = (path.Length == 0 ? null : snapshot.Matcher.Select(path, out captures)) ?? snapshot.Unmatched;
            return true;
        }
        catch (RegexMatchTimeoutException ex)
        {
            RoutingLog.RegexMatchTimedOut(_logger, ex.Pattern, ex.MatchTimeout, ex);
            location = null!;
            captures = null;
            return false;
        }
    }

    private bool TryCountRedirect(in ServingRequest from, string path, out int redirects)
    {
        redirects = from.Redirects + 1;
        if (redirects <= MaxInternalRedirects)
        {
            return true;
        }

        RoutingLog.InternalRedirectLoop(_logger, path, MaxInternalRedirects);
        return false;
    }
}
