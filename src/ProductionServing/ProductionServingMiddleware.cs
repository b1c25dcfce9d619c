using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using ProductionServing.Configuration;
using ProductionServing.Routing;

namespace ProductionServing;

/// <summary>
/// The request flow: normalize the path, select the location (nginx rules), hand the request to the
/// location's handler. Nothing else happens here.
/// </summary>
internal sealed class ProductionServingMiddleware(
    RequestDelegate next,
    ServingConfigHolder holder,
    ILogger<ProductionServingMiddleware> logger)
{
    public Task Invoke(HttpContext context)
    {
        var snapshot = holder.Current;
        if (!RequestPath.TryGetMatchPath(context, out var path))
        {
            RoutingLog.RequestTargetRejected(logger, context.Features.Get<IHttpRequestFeature>()?.RawTarget);
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
            RoutingLog.RegexMatchTimedOut(logger, ex.Pattern, ex.MatchTimeout, ex);
            return Answer(context, StatusCodes.Status500InternalServerError);
        }

        if (location.Internal)
        {
            RoutingLog.InternalLocationRequested(logger, location.Feature.Match);
            return Answer(context, StatusCodes.Status404NotFound);
        }

        context.Features.Set(location.Feature);
        return location.Handler switch
        {
            // Worker pools are not implemented yet (validation refuses configured pools), so the app runs directly.
            ServingHandler.App => next(context),
            _ => throw new InvalidOperationException($"The {location.Handler} handler is not available in this version; validation should have refused {location.Feature}."),
        };
    }

    private static Task Answer(HttpContext context, int statusCode)
    {
        context.Response.StatusCode = statusCode;
        return Task.CompletedTask;
    }
}
