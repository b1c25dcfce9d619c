using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using ProductionServing;
using QuickStart;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));

// Readiness for a load balancer: the pools, the upstream groups and the host stopping (Shutdown.DrainDelay).
builder.Services.AddHealthChecks().AddProductionServing();

var app = builder.Build();
app.UseProductionServing();

// Once Kestrel listens, print what to try, with the address it really bound (a --urls or ASPNETCORE_URLS
// of your own included), one URL a line; "/" answers the same list.
app.Lifetime.ApplicationStarted.Register(() =>
{
    var urls = Tries.Format(Tries.BaseAddress(app.Urls));
    QuickStartLog.TryThese(app.Logger, urls);
});

// The app itself: every request the configured locations do not take ends up here.
app.MapGet("/", (HttpContext context) => Results.Text(
    "ProductionServing QuickStart\n\nTry these:" + Tries.Format($"{context.Request.Scheme}://{context.Request.Host}") + "\n"));
// Liveness (/healthz) answers while the process does; readiness (/ready) is the checks tagged "ready": 503
// while an upstream group is all down or the host is stopping, so the instance is taken out of rotation.
app.MapGet("/healthz", () => "ok");
app.MapHealthChecks("/ready", new HealthCheckOptions { Predicate = static check => check.Tags.Contains("ready") });
app.MapGet("/api/hello", (HttpContext context) => new
{
    message = "hello",
    location = context.Features.Get<ServingLocation>()?.Match,
});
// A body through the default pool: the JSON posted, sent back as it came.
app.MapPost("/api/echo", async (HttpContext context) =>
{
    context.Response.ContentType = context.Request.ContentType ?? "application/octet-stream";
    await context.Request.Body.CopyToAsync(context.Response.Body, context.RequestAborted);
});
app.MapGet("/reports/{name}", (string name, HttpContext context) => Results.Text(
    $"report {name} served by location '{context.Features.Get<ServingLocation>()?.Match}'\n"));

// Blocking code (here Thread.Sleep, in real apps sync I/O or .Result) runs on the dedicated threads of
// the "blocking" pool: at most four at once, sixteen more wait, and the thread pool that serves
// everything else never starves.
app.MapGet("/blocking/{milliseconds:int}", (int milliseconds) =>
{
    Thread.Sleep(Math.Clamp(milliseconds, 0, 5000));
    return $"slept {milliseconds} ms on {Thread.CurrentThread.Name}\n";
});

// nginx's X-Accel-Redirect: the app checks the caller and names the file; ProductionServing sends it
// from the internal static location /protected/, with ranges and conditional requests.
app.MapGet("/download/{name}", (string name, string? key, HttpContext context) =>
{
    if (key != "demo")
    {
        return Results.StatusCode(StatusCodes.Status403Forbidden);
    }

    context.Response.Headers["X-Accel-Redirect"] = "/protected/" + Uri.EscapeDataString(name);
    context.Response.Headers.ContentDisposition = "attachment";
    return Results.Empty;
});

app.Run();

/// <summary>The sample's entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
