using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Pools;

/// <summary>
/// An <c>App</c> location: the rest of the pipeline, through the location's worker pool (or directly
/// when it has none). The app's response may hand the request off with nginx's <c>X-Accel-Redirect</c>:
/// <see cref="AccelRedirectBody"/> watches for the header, and the path it names is then served, through
/// an internal redirect, after the app has given its pool slot back.
/// </summary>
internal sealed class AppHandler(WorkerPool? pool) : LocationHandler
{
    public override ServingHandler Kind => ServingHandler.App;

    public override string? PoolName => pool?.Name;

    public override Task HandleAsync(ServingRequest request)
    {
        var context = request.Context;
        var original = context.Features.Get<IHttpResponseBodyFeature>()!;
        var body = AccelRedirectBody.For(context, original);
        context.Features.Set<IHttpResponseBodyFeature>(body);
        context.Response.OnStarting(AccelRedirectBody.RemoveLateHeader, context.Response);
        Task app;
        try
        {
            app = pool is null ? request.Flow.Next(context) : pool.InvokeAsync(context, request.Flow.Next, request.Record, request.Snapshot.ServerTiming);
        }
        catch
        {
            context.Features.Set(original);
            throw;
        }

        if (!app.IsCompletedSuccessfully)
        {
            // The watch holds the request while the app runs: the state of this async method, allocated
            // for every app that does not end at once (always on a dedicated pool), stays two references.
            body.Hold(request);
            return HandOffWhenDoneAsync(app, body);
        }

        context.Features.Set(original);
        return IsHandOff(context, body) ? request.Flow.HandOffAsync(request, body.Target!) : Task.CompletedTask;
    }

    private static async Task HandOffWhenDoneAsync(Task app, AccelRedirectBody body)
    {
        try
        {
            await app;
        }
        catch
        {
            Restore(body);
            throw;
        }

        await HandOffIfAsked(body);
    }

    private static Task HandOffIfAsked(AccelRedirectBody body)
    {
        var request = Restore(body);
        return IsHandOff(request.Context, body) ? request.Flow.HandOffAsync(request, body.Target!) : Task.CompletedTask;
    }

    /// <summary>Puts the server's response body back once the app has ended, and returns the request the watch held.</summary>
    private static ServingRequest Restore(AccelRedirectBody body)
    {
        var request = body.Release();
        request.Context.Features.Set(body.Inner);
        return request;
    }

    /// <summary>
    /// Whether the app handed off. A response that started all the same was answered for the app (its
    /// pool's <c>RequestTimeout</c> gave up on it): that answer stands.
    /// </summary>
    private static bool IsHandOff(HttpContext context, AccelRedirectBody body) => body.IsRedirect() && !context.Response.HasStarted;
}
