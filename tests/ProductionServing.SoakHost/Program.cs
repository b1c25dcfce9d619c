using ProductionServing.SoakHost;

// The host of tests/load/soak. Usage:
//   ProductionServing.SoakHost --config <soak.json> --urls http://127.0.0.1:PORT
// Its ProductionServing section comes from --config, reloaded when the file changes (the soak rewrites
// it every minute); the locations it names are the app's endpoints below, plus the soak's static root
// and upstream group.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
if (builder.Configuration["config"] is not { } config || !File.Exists(config))
{
    Console.Error.WriteLine("usage: ProductionServing.SoakHost --config <soak.json> --urls http://127.0.0.1:PORT");
    return 2;
}

builder.Configuration.AddJsonFile(Path.GetFullPath(config), optional: false, reloadOnChange: true);
builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));

var app = builder.Build();
app.UseProductionServing();
SoakEndpoints.Map(app);
app.Run();
return 0;
