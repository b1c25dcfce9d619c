using System.Globalization;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using ProductionServing;
using ProductionServing.LoadServer;

// The server side of tests/load/run. Usage:
//   ProductionServing.LoadServer --mode <library|staticfiles|ceiling> --root <folder> --urls http://127.0.0.1:PORT
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var mode = builder.Configuration["mode"];
var root = builder.Configuration["root"];
if (root is null || !Directory.Exists(root) || mode is not ("library" or "staticfiles" or "ceiling"))
{
    Console.Error.WriteLine("usage: ProductionServing.LoadServer --mode <library|staticfiles|ceiling> --root <folder> --urls http://127.0.0.1:PORT");
    return 2;
}

root = Path.GetFullPath(root);
if (mode == "library")
{
    builder.Services.AddProductionServing(options =>
    {
        // /__alloc is the app's, so the static location must not take it.
        options.Locations.Add(new LocationOptions { Match = "= /__alloc", App = new AppOptions { Pool = null } });
        options.Locations.Add(new LocationOptions { Match = "/", Static = new StaticOptions { Root = root } });
    });
}

var app = builder.Build();
try
{
    switch (mode)
    {
        case "library":
            app.UseProductionServing();
            break;
        case "staticfiles":
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(root), ServeUnknownFileTypes = true });
            break;
        default:
            CeilingEndpoints.Map(app, root);
            break;
    }
}
catch (OptionsValidationException ex)
{
    // tests/load/run reports this line and marks the server unavailable instead of failing the run.
    Console.Error.WriteLine("startup failed: " + string.Join(" ", ex.Failures));
    return 3;
}

// Not counted in runs: the harness reads it before and after a run to get allocated bytes per request.
app.MapGet("/__alloc", () => GC.GetTotalAllocatedBytes(precise: true).ToString(CultureInfo.InvariantCulture));

await app.RunAsync();
return 0;
