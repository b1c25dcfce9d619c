using System.Text.RegularExpressions;
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

        // The status page is matched before every configured location (SPEC §3.5), for the clients it
        // allows; for anyone else its paths go on to the locations, as if it did not exist.
        if (snapshot.Status is { } status && status.TryServe(context, path, snapshot, _observer.Status, out var page))
        {
            statusPage = true;
            return page;
        }

        if (!TrySelect(snapshot, path, out var location))
        {
            return ErrorResponse.Answer(context, ServingError.RegexTimeout);
        }

        if (location.Internal)
        {
            RoutingLog.InternalLocationRequested(_logger, location.Feature.Match);
            return ErrorResponse.Answer(context, ServingError.InternalLocation);
        }

        // Seam: the location's directives that act before its handler go here, in this order: Allow,
        // RateLimit, MaxBodySize. Those that shape the response (Compress, Headers) wrap it before the
        // handler starts it; Compress does so in Dispatch, so that the location an internal redirect leads
        // to decides again. The access log and metrics observe the request's end in Invoke.
        return Dispatch(new ServingRequest(context, path, location, snapshot, this, redirects: 0, handedOff: false, record));
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

        if (!TrySelect(from.Snapshot, path, out var location))
        {
            return ErrorResponse.Answer(context, ServingError.RegexTimeout);
        }

        var request = context.Request;
        request.Path = new PathString(path);
        request.QueryString = new QueryString(query.Length == 0 ? null : query);
        return Dispatch(new ServingRequest(context, path, location, from.Snapshot, this, redirects, handedOff || from.HandedOff, from.Record));
    }

    /// <summary>
    /// <c>TryFiles</c>' <c>@app</c>: the app through the default pool, with the request as it is (nginx's
    /// named location, which keeps the URI and counts as an internal redirect).
    /// </summary>
    public Task FallBackToAppAsync(in ServingRequest from)
    {
        if (!TryCountRedirect(from, from.Path, out var redirects))
        {
            return ErrorResponse.Answer(from.Context, ServingError.RedirectLoop);
        }

        // @app has no directives of its own: it is the TryFiles of the location falling back, whose Compress
        // applies to the app's response too (nginx's named location would carry its own gzip).
        return Dispatch(new ServingRequest(from.Context, from.Path, from.Snapshot.AppFallback, from.Snapshot, this, redirects, from.HandedOff, from.Record),
            from.Location.Compress);
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

    private static Task Dispatch(ServingRequest request) => Dispatch(request, request.Location.Compress);

    private static Task Dispatch(ServingRequest request, CompressPolicy? compress)
    {
        var context = request.Context;
        context.Features.Set(request.Location.Feature);
        if (request.Redirects > 0)
        {
            // The location an internal redirect leads to decides on compression, never two at once.
            CompressingResponseBody.Withdraw(context);
        }

        // A static location compresses its cached files once, when it loads them; other handlers' responses
        // are compressed as they flow.
        return compress is null || request.Location.Handler.Kind == ServingHandler.Static
            ? request.Location.Handler.HandleAsync(request)
            : CompressingResponseBody.ServeAsync(request, compress);
    }

    /// <summary>Selects the location for <paramref name="path"/>; false when a regex timed out (nginx answers 500 when a location regex fails).</summary>
    private bool TrySelect(ServingSnapshot snapshot, string path, out Location location)
    {
        try
        {
            location = (path.Length == 0 ? null : snapshot.Matcher.Select(path)) ?? snapshot.Unmatched;
            return true;
        }
        catch (RegexMatchTimeoutException ex)
        {
            RoutingLog.RegexMatchTimedOut(_logger, ex.Pattern, ex.MatchTimeout, ex);
            location = null!;
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
