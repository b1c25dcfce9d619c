using ProductionServing;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));

var app = builder.Build();
app.UseProductionServing();

// The app itself: every request the configured locations do not take ends up here.
app.MapGet("/", () => Results.Text(
    "ProductionServing QuickStart\n\nTry /healthz, /api/hello, /reports/2026.csv, /internal/ (404: internal location).\n"));
app.MapGet("/healthz", () => "ok");
app.MapGet("/api/hello", (HttpContext context) => new
{
    message = "hello",
    location = context.Features.Get<ServingLocation>()?.Match,
});
app.MapGet("/reports/{name}", (string name, HttpContext context) => Results.Text(
    $"report {name} served by location '{context.Features.Get<ServingLocation>()?.Match}'\n"));

app.Run();

/// <summary>The sample's entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
