using ProductionServing;
using ProductionServing.DeployApp;

// The application of tests/load/deploy. Usage:
//   ProductionServing.DeployApp --mode classic --urls http://127.0.0.1:PORT
//     the app's endpoints alone, as it runs behind nginx (nginx serves the files and proxies the rest here)
//   ProductionServing.DeployApp --mode library --root <assets> --urls http://127.0.0.1:PORT
//     the same endpoints behind UseProductionServing(): files from <assets> (try_files $uri @app, the
//     precompressed sidecars), everything else to the app through the default pool
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var mode = builder.Configuration["mode"];
var root = builder.Configuration["root"] is { } rootArgument && Directory.Exists(rootArgument) ? Path.GetFullPath(rootArgument) : null;
if (mode is not ("classic" or "library") || (mode == "library" && root is null))
{
    Console.Error.WriteLine("""
        usage: ProductionServing.DeployApp --mode classic --urls http://127.0.0.1:PORT
               ProductionServing.DeployApp --mode library --root <assets> --urls http://127.0.0.1:PORT
        """);
    return 2;
}

if (mode == "library")
{
    // The nginx deployment's `location / { try_files $uri @app; }` with `gzip_static on`, written as a
    // user of the library would: one Static location whose misses fall through to the app (through
    // the default pool, at its defaults); Precompressed is on by default.
    builder.Services.AddProductionServing(options =>
        options.Locations.Add(new LocationOptions { Match = "/", Static = new StaticOptions { Root = root, TryFiles = { "$uri", "@app" } } }));
}

var app = builder.Build();
if (mode == "library")
{
    app.UseProductionServing();
}

AppEndpoints.Map(app);
await app.RunAsync();
return 0;
