using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using ProductionServing.Configuration;
using ProductionServing.Pools;
using ProductionServing.Routing;
using ProductionServing.Static;

namespace ProductionServing;

/// <summary>
/// The request flow: normalize the path, select the location (nginx rules), hand the request to the
/// location's handler: Static, Proxy, or the App through its worker pool (with the
/// <c>X-Accel-Redirect</c> handoff back to Static).
/// </summary>
internal sealed class ProductionServingMiddleware
{
    private const string HandoffCountKey = "ProductionServing.Handoffs";

    private readonly RequestDelegate _next;
    private readonly RequestDelegate _app;
    private readonly ServingConfigHolder _holder;
    private readonly ILogger<ProductionServingMiddleware> _logger;

    public ProductionServingMiddleware(RequestDelegate next, ServingConfigHolder holder, ILogger<ProductionServingMiddleware> logger)
    {
        _next = next;
        _holder = holder;
        _logger = logger;
        _app = InvokeFallback;
    }

    public Task Invoke(HttpContext context)
    {
        var snapshot = _holder.Current;
        if (!RequestPath.TryGetMatchPath(context, out var path))
        {
            RoutingLog.RequestTargetRejected(_logger, context.Features.Get<IHttpRequestFeature>()?.RawTarget);
            return Answer(context, StatusCodes.Status400BadRequest);
        }

        Location location;
        try
        {
            location = (path.Length == 0 ? null : snapshot.Matcher.Select(path)) ?? snapshot.Unmatched;
        }
        catch (RegexMatchTimeoutException ex)
        {
            // nginx answers 500 when a location regex fails to execute.
            RoutingLog.RegexMatchTimedOut(_logger, ex.Pattern, ex.MatchTimeout, ex);
            return Answer(context, StatusCodes.Status500InternalServerError);
        }

        if (location.Internal)
        {
            RoutingLog.InternalLocationRequested(_logger, location.Feature.Match);
            return Answer(context, StatusCodes.Status404NotFound);
        }

        context.Features.Set(location.Feature);
        return location.Static is { } files ? files.HandleAsync(context, path, snapshot, _app, redirects: 0)
            : location.Proxy is { } proxy ? proxy.HandleAsync(context, path)
            : InvokeApp(context, location.Pool, snapshot.HasStatic);
    }

    /// <summary>A static location's <c>@app</c> fallback: the app through the default pool.</summary>
    private Task InvokeFallback(HttpContext context)
    {
        var snapshot = _holder.Current;
        return InvokeApp(context, snapshot.DefaultPool, snapshot.HasStatic);
    }

    /// <summary>
    /// Runs the app through <paramref name="pool"/> (directly when <see langword="null"/>). When static
    /// locations exist, the app's response may hand off to one with <c>X-Accel-Redirect</c>; the file is
    /// then served after the app has given its pool slot back.
    /// </summary>
    private Task InvokeApp(HttpContext context, WorkerPool? pool, bool hasStatic) =>
        hasStatic ? InvokeAppWithHandoffAsync(context, pool) : RunApp(context, pool);

    private Task RunApp(HttpContext context, WorkerPool? pool) => pool is null ? _next(context) : pool.InvokeAsync(context, _next);

    private async Task InvokeAppWithHandoffAsync(HttpContext context, WorkerPool? pool)
    {
        var original = context.Features.Get<IHttpResponseBodyFeature>()!;
        var body = new AccelRedirectBody(context, original);
        context.Features.Set<IHttpResponseBodyFeature>(body);
        context.Response.OnStarting(AccelRedirectBody.RemoveLateHeader, context.Response);
        try
        {
            await RunApp(context, pool);
        }
        finally
        {
            context.Features.Set(original);
        }

        if (!body.IsRedirect())
        {
            return;
        }

        await ServeHandoffAsync(context, body.Target!);
    }

    private Task ServeHandoffAsync(HttpContext context, string target)
    {
        // A handoff can lead back to the app (a TryFiles @app fallback) that hands off again: count
        // them per request, with nginx's limit on internal redirects.
        var handoffs = context.Items.TryGetValue(HandoffCountKey, out var count) ? (int)count! + 1 : 1;
        context.Items[HandoffCountKey] = handoffs;
        if (handoffs > StaticHandler.MaxInternalRedirects)
        {
            StaticLog.InternalRedirectLoop(_logger, target, StaticHandler.MaxInternalRedirects);
            return Answer(context, StatusCodes.Status500InternalServerError);
        }

        // The app's own body headers describe the body that was discarded; the app's other headers
        // (Content-Disposition, Set-Cookie, Cache-Control, …) stay, as nginx keeps them.
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

        var query = target.IndexOf('?', StringComparison.Ordinal);
        if (!RequestPath.TryNormalizeHandoff(query < 0 ? target : target.AsSpan(0, query), out var path))
        {
            StaticLog.AccelRedirectUnsafe(_logger, target);
            return Answer(context, StatusCodes.Status404NotFound);
        }

        var snapshot = _holder.Current;
        var location = snapshot.Matcher.Select(path) ?? snapshot.Unmatched;
        if (location.Static is not { } files)
        {
            StaticLog.AccelRedirectUnserved(_logger, target);
            return Answer(context, StatusCodes.Status500InternalServerError);
        }

        context.Features.Set(location.Feature);
        return files.HandleAsync(context, path, snapshot, _app, redirects: handoffs);
    }

    private static Task Answer(HttpContext context, int statusCode)
    {
        context.Response.StatusCode = statusCode;
        return Task.CompletedTask;
    }
}
