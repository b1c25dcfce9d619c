using System.Globalization;
using Yarp.ReverseProxy.Configuration;

// The YARP row of tests/load/run SUITE=proxy: YARP with its default settings, configured in code
// (one catch-all route to one cluster with one destination). Usage:
//   ProductionServing.YarpServer --upstream http://127.0.0.1:PORT --urls http://127.0.0.1:PORT
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

if (!Uri.TryCreate(builder.Configuration["upstream"], UriKind.Absolute, out var upstream) || upstream.Scheme != Uri.UriSchemeHttp)
{
    Console.Error.WriteLine("usage: ProductionServing.YarpServer --upstream http://127.0.0.1:PORT --urls http://127.0.0.1:PORT");
    return 2;
}

RouteConfig[] routes = [new() { RouteId = "all", ClusterId = "backend", Match = new() { Path = "{**catch-all}" } }];
ClusterConfig[] clusters =
[
    new()
    {
        ClusterId = "backend",
        Destinations = new Dictionary<string, DestinationConfig> { ["backend"] = new() { Address = upstream.GetLeftPart(UriPartial.Authority) } },
    },
];
builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);

var app = builder.Build();

// Not counted in runs: the harness reads it before and after a run to get allocated bytes per
// request. A literal route outranks YARP's catch-all whatever the order (route precedence), so this
// stays in this process and never reaches the backend.
app.MapGet("/__alloc", () => GC.GetTotalAllocatedBytes(precise: true).ToString(CultureInfo.InvariantCulture));
app.MapReverseProxy();

await app.RunAsync();
return 0;
