using ProductionServing;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));

var app = builder.Build();
app.UseProductionServing();

// The app itself: every request the configured locations do not take ends up here.
app.MapGet("/", () => Results.Text(
    "ProductionServing QuickStart\n\nTry /healthz, /api/hello, /reports/2026.csv, /assets/site.css, "
    + "/download/report.txt?key=demo (the app authorizes, the static location sends the file), "
    + "/protected/report.txt and /internal/ (404: internal locations), "
    + "/proxied/hello (forwarded upstream to this same app's /api/hello, as nginx's proxy_pass would), "
    + "/blocking/200 (blocking code on the 'blocking' pool's own threads, never the thread pool's), "
    + "/_serving (the live status page, from this machine only) and /_serving/match?path=/reports/2026.csv "
    + "(which location a path selects, and why).\n"));
app.MapGet("/healthz", () => "ok");
app.MapGet("/api/hello", (HttpContext context) => new
{
    message = "hello",
    location = context.Features.Get<ServingLocation>()?.Match,
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
