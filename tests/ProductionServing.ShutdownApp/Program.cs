using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using ProductionServing;
using ProductionServing.Pools;

namespace ProductionServing.ShutdownApp;

/// <summary>
/// A small app with one worker pool, driven through stdin and stdout so a test can stop it with SIGTERM:
/// <list type="bullet">
/// <item><c>GET /gate/{id}</c> (pool <c>p</c>) prints <c>started {id}</c>, waits until stdin reads
/// <c>release {id}</c> (or the client leaves), then answers <c>done {id}</c>.</item>
/// <item><c>GET /status</c> (no pool) answers <c>{running} {queued}</c> for pool <c>p</c>.</item>
/// <item><c>GET /ready</c> (no pool): the <c>ready</c>-tagged health checks, 200 or 503.</item>
/// <item>stdout: <c>port {port}</c> once listening on 127.0.0.1, <c>stopping</c> when the host begins
/// to stop (SIGTERM), one line per log message (Warning and above), <c>exited</c> when Main returns.</item>
/// </list>
/// Arguments: <c>--limit</c> (MaxConcurrency, default 2), <c>--queue</c> (QueueLimit, default 10),
/// <c>--shutdown-timeout</c> (the host's ShutdownTimeout in seconds, default 30), <c>--drain-delay</c>
/// (<c>Shutdown.DrainDelay</c> in seconds, default 0).
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        // The command line only: the folder it runs from (the tests' output) also holds a sample's appsettings.json.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddCommandLine(args);
        var limit = builder.Configuration.GetValue("limit", 2);
        var queue = builder.Configuration.GetValue("queue", 10);
        var shutdownTimeout = TimeSpan.FromSeconds(builder.Configuration.GetValue("shutdown-timeout", 30.0));
        var drainDelay = TimeSpan.FromSeconds(builder.Configuration.GetValue("drain-delay", 0.0));

        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = shutdownTimeout);
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(options => options.SingleLine = true);
        builder.Services.AddProductionServing(options =>
        {
            options.Pools["p"] = new PoolOptions { MaxConcurrency = limit, QueueLimit = queue, QueueTimeout = TimeSpan.FromMinutes(5) };
            options.Shutdown.DrainDelay = drainDelay;
            options.Locations.Add(new LocationOptions { Match = "= /status", App = new AppOptions { Pool = null } });
            options.Locations.Add(new LocationOptions { Match = "= /ready", App = new AppOptions { Pool = null } });
            options.Locations.Add(new LocationOptions { Match = "/", App = new AppOptions { Pool = "p" } });
        });

        builder.Services.AddHealthChecks().AddProductionServing();

        var app = builder.Build();
        var gates = new ConcurrentDictionary<string, TaskCompletionSource>();
        var reader = new Thread(() =>
        {
            while (Console.ReadLine() is { } line)
            {
                if (line.StartsWith("release ", StringComparison.Ordinal))
                {
                    Gate(gates, line["release ".Length..]).TrySetResult();
                }
            }
        })
        { IsBackground = true, Name = "stdin" };
        reader.Start();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            Console.WriteLine("port " + new Uri(address).Port.ToString(CultureInfo.InvariantCulture));
        });

        // Registered before the host starts, so it runs after the pools' own ApplicationStopping callback
        // (a token runs its callbacks last registered first): once this line is out, the pools turn
        // arrivals away.
        app.Lifetime.ApplicationStopping.Register(() => Console.WriteLine("stopping"));

        app.UseProductionServing();
        app.MapHealthChecks("/ready", new HealthCheckOptions { Predicate = static check => check.Tags.Contains("ready") });
        app.MapGet("/status", (PoolRegistry pools) =>
        {
            var pool = pools.Pools.First(p => p.Name == "p");
            return pool.Running.ToString(CultureInfo.InvariantCulture) + " " + pool.QueueLength.ToString(CultureInfo.InvariantCulture);
        });
        app.MapGet("/gate/{id}", async (string id, HttpContext context) =>
        {
            Console.WriteLine("started " + id);
            await Gate(gates, id).Task.WaitAsync(context.RequestAborted);
            return "done " + id;
        });

        await app.RunAsync();
        Console.WriteLine("exited");
        return 0;
    }

    private static TaskCompletionSource Gate(ConcurrentDictionary<string, TaskCompletionSource> gates, string id) =>
        gates.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
