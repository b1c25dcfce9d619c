using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Configuration;

/// <summary>Configuration changes while running: a valid one takes effect, an invalid one is logged and ignored.</summary>
public sealed class ReloadTests
{
    private const string Config = """
    { "ProductionServing": { "Locations": [ { "Match": "/old/", "App": {} }, { "Match": "= /x", "App": {} } ] } }
    """;

    [Fact]
    public async Task ValidReload_TakesEffectWithoutRestart()
    {
        await using var host = await ServingHost.StartAsync(Config);
        Assert.Equal("0|/old/|App|default|/old/a", await host.Client.GetStringAsync(new Uri("/old/a", UriKind.Relative)));

        host.Reload(("ProductionServing:Locations:0:Match", "/new/"));

        Assert.Equal("-1||App|default|/old/a", await host.Client.GetStringAsync(new Uri("/old/a", UriKind.Relative)));
        Assert.Equal("0|/new/|App|default|/new/a", await host.Client.GetStringAsync(new Uri("/new/a", UriKind.Relative)));
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 1002 && r.Level == LogLevel.Information);
    }

    [Fact]
    public async Task InvalidReload_KeepsTheLastGoodConfiguration_AndLogsAnError()
    {
        await using var host = await ServingHost.StartAsync(Config);

        host.Reload(("ProductionServing:Locations:0:Match", "~~ /new/"), ("ProductionServing:Locations:1:Match", "= /y"));

        Assert.Equal("0|/old/|App|default|/old/a", await host.Client.GetStringAsync(new Uri("/old/a", UriKind.Relative)));
        Assert.Equal("1|= /x|App|default|/x", await host.Client.GetStringAsync(new Uri("/x", UriKind.Relative)));
        var error = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 1003);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.Contains("Locations[0].Match: unknown modifier '~~'", error.Exception?.Message, StringComparison.Ordinal);

        // A later valid reload still takes effect: the failed one did not break the change subscription.
        host.Reload(("ProductionServing:Locations:0:Match", "/new/"));
        Assert.Equal("0|/new/|App|default|/new/a", await host.Client.GetStringAsync(new Uri("/new/a", UriKind.Relative)));
        Assert.Equal("1|= /y|App|default|/y", await host.Client.GetStringAsync(new Uri("/y", UriKind.Relative)));
    }

    [Fact]
    public async Task IdenticalReload_IsANoOp()
    {
        await using var host = await ServingHost.StartAsync(Config);

        host.Reload();
        host.Reload(("ProductionServing:Locations:0:Match", "/old/"));

        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Id.Id is 1002 or 1003);
    }

    [Fact]
    public async Task EditedAppSettingsFile_IsPickedUpByTheFileWatcher()
    {
        var folder = Directory.CreateTempSubdirectory("ps-reload-");
        try
        {
            var file = Path.Combine(folder.FullName, "appsettings.json");
            await File.WriteAllTextAsync(file, Config);
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test", ContentRootPath = folder.FullName });
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddJsonFile(file, optional: false, reloadOnChange: true);
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders().AddFakeLogging();
            builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));
            await using var app = builder.Build();
            app.UseProductionServing();
            app.Run(context => context.Response.WriteAsync(context.Features.Get<ServingLocation>()?.Match ?? "none"));
            await app.StartAsync();
            var client = app.GetTestClient();

            await File.WriteAllTextAsync(file, Config.Replace("/old/", "/new/", StringComparison.Ordinal));

            // The watcher fires asynchronously, and on a busy machine late.
            await Poll.UntilAsync(async () => await client.GetStringAsync(new Uri("/new/a", UriKind.Relative)) == "/new/",
                "the edited file is loaded", within: TestTimeouts.Long);

            Assert.Equal("none", await client.GetStringAsync(new Uri("/old/a", UriKind.Relative)));
            await app.StopAsync();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
