using System.Globalization;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using ProductionServing;
using ProductionServing.LoadServer;

// The server side of tests/load/run. Usage:
//   ProductionServing.LoadServer --mode <library|library-accesslog|staticfiles|ceiling> --root <folder> --urls http://127.0.0.1:PORT
//   ProductionServing.LoadServer --mode library --root <folder> --config <file.json> --urls http://127.0.0.1:PORT
//   ProductionServing.LoadServer --mode backend --urls http://127.0.0.1:PORT
//   ProductionServing.LoadServer --mode proxy --upstream http://127.0.0.1:PORT --urls http://127.0.0.1:PORT
//   ProductionServing.LoadServer --mode <app|limiter|pool-default|pool-dedicated|pool-isolation|pool-fifo|pool-lifo> --urls http://127.0.0.1:PORT
// Any mode also takes --metrics <ours|all> (a MeterListener observes every instrument of the
// ProductionServing meter, or of every meter: what an exporter costs the request path), and library
// and proxy take --access-log <file> (the access log on, appended to that file).
// library also takes --compress true (Compress on its static location, with the defaults:
// tests/load/paired-static's library-compress), --headers <n> (n constant response Headers on its static location, up to 3) and
// --allow <n> (an Allow list of n networks on it, the client's matching only the last) and
// --rate-limit true (a RateLimit on it that the load never reaches): what the location directives cost a file.
// The static suite uses the first three modes (library-accesslog is library with the access log on,
// appended to --access-log, by default a file in the temporary folder deleted at exit); the proxy suite puts a proxy (this library's is
// --mode proxy) in front of --mode backend; the pools suite runs one app behind nothing, a
// concurrency limiter or a worker pool (PoolModes).
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var mode = builder.Configuration["mode"];
var root = builder.Configuration["root"] is { } rootArgument && Directory.Exists(rootArgument) ? Path.GetFullPath(rootArgument) : null;
var upstream = Uri.TryCreate(builder.Configuration["upstream"], UriKind.Absolute, out var upstreamUri) && upstreamUri.Scheme == Uri.UriSchemeHttp
    ? upstreamUri.GetLeftPart(UriPartial.Authority)
    : null;
var valid = mode switch
{
    "library" or "library-accesslog" or "staticfiles" or "ceiling" => root is not null,
    "backend" => true,
    "proxy" => upstream is not null,
    _ => PoolModes.IsKnown(mode),
};
if (!valid)
{
    Console.Error.WriteLine("""
        usage: ProductionServing.LoadServer --mode <library|library-accesslog|staticfiles|ceiling> --root <folder> --urls http://127.0.0.1:PORT
               ProductionServing.LoadServer --mode backend --urls http://127.0.0.1:PORT
               ProductionServing.LoadServer --mode proxy --upstream http://127.0.0.1:PORT --urls http://127.0.0.1:PORT
               ProductionServing.LoadServer --mode <app|limiter|pool-default|pool-dedicated|pool-isolation|pool-fifo|pool-lifo> --urls http://127.0.0.1:PORT
        """);
    return 2;
}

var accessLog = mode == "library-accesslog"
    ? Path.GetFullPath(builder.Configuration["access-log"] ?? Path.Combine(Path.GetTempPath(), $"ps-loadserver-{Environment.ProcessId}.access.log"))
    : builder.Configuration["access-log"] is { } accessLogArgument ? Path.GetFullPath(accessLogArgument) : null;
if (mode is "library" or "library-accesslog")
{
    // --config file.json adds its ProductionServing section, reloaded when the file changes (the
    // reload benchmark, tests/load/reload, changes another location there while the static one is loaded).
    if (builder.Configuration["config"] is { } config)
    {
        builder.Configuration.AddJsonFile(Path.GetFullPath(config), optional: false, reloadOnChange: true);
        builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));
    }

    builder.Services.AddProductionServing(options =>
    {
        // /__alloc is the app's, so the static location must not take it.
        options.Locations.Add(new LocationOptions { Match = "= /__alloc", App = new AppOptions { Pool = null } });
        options.Locations.Add(Directives.Apply(new LocationOptions { Match = "/", Static = new StaticOptions { Root = root } }, builder.Configuration));
        options.AccessLog = accessLog is null ? null : new AccessLogOptions { Path = accessLog };
    });
}
else if (mode == "proxy")
{
    // Configured as a user would: one upstream group, everything but /__alloc forwarded to it.
    builder.Services.AddProductionServing(options =>
    {
        options.Upstreams["backend"] = new UpstreamOptions { Servers = { new UpstreamServerOptions { Address = upstream } } };
        options.Locations.Add(new LocationOptions { Match = "= /__alloc", App = new AppOptions { Pool = null } });
        options.Locations.Add(new LocationOptions { Match = "/", Proxy = new ProxyOptions { Pass = "http://backend" } });
        options.AccessLog = accessLog is null ? null : new AccessLogOptions { Path = accessLog };
    });
}
else if (mode != "backend")
{
    PoolModes.AddServices(builder.Services, mode!);
}

var app = builder.Build();
using var listener = MetricsListener.Start(builder.Configuration["metrics"]);
try
{
    switch (mode)
    {
        case "library" or "library-accesslog" or "proxy":
            app.UseProductionServing();
            break;
        case "staticfiles":
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(root!), ServeUnknownFileTypes = true });
            break;
        case "ceiling":
            CeilingEndpoints.Map(app, root!);
            break;
        case "backend":
            BackendEndpoints.Map(app);
            break;
        default:
            PoolModes.Map(app, mode!);
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
// The backend answers at another path: a proxy in front of it forwards what it does not serve
// itself (nginx does), and must not pass the backend's count off as its own.
app.MapGet(mode == "backend" ? "/__backend/alloc" : "/__alloc", () => GC.GetTotalAllocatedBytes(precise: true).ToString(CultureInfo.InvariantCulture));

await app.RunAsync();
if (accessLog is not null && builder.Configuration["access-log"] is null)
{
    File.Delete(accessLog);
}

return 0;
