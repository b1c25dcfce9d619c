using Microsoft.Extensions.Logging;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Status;

/// <summary>The compiled location table is logged (Information, event 1104) at startup and after each reload, status page or not.</summary>
public sealed class LocationTableLogTests
{
    private const int LocationTable = 1104;

    private static readonly string Config = ServingJson.Config("""
        { "Match": "= /healthz", "App": { "Pool": null } },
        { "Match": "~ \\.php$", "App": {} },
        { "Match": "~ \\.php$", "App": {} },
        { "Match": "/api/", "Internal": true, "App": {} }
        """);

    [Fact]
    public async Task AtStartup_TheTableListsEachLocation_ItsKind_Handler_Target_AndNotes()
    {
        await using var host = await ServingHost.StartAsync(Config);

        var record = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == LocationTable);
        Assert.Equal((LogLevel.Information, "LocationTable"), (record.Level, record.Id.Name));
        Assert.Equal("4", record.Field("LocationCount"));
        var lines = record.Field("Table")!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToArray();
        Assert.Equal(5, lines.Length);
        Assert.Matches(@"^#0\s+= /healthz\s+exact\s+app\s+no pool$", lines[0]);
        Assert.Matches(@"^#1\s+~ \\\.php\$\s+regex 1\s+app\s+pool default$", lines[1]);
        Assert.Matches(@"^#2\s+~ \\\.php\$\s+regex 2\s+app\s+pool default; NEVER SELECTED: repeats Locations\[1\]", lines[2]);
        Assert.Matches(@"^#3\s+/api/\s+prefix\s+app\s+pool default; internal$", lines[3]);
        Assert.Matches(@"^--\s+\(no match\)\s+app\s+pool default$", lines[4]);
    }

    [Fact]
    public async Task AfterAReload_TheNewTableIsLogged_AndWithTheStatusPageItsPaths()
    {
        await using var host = await ServingHost.StartAsync(Config);

        host.Reload(("ProductionServing:Locations:3:Match", "/v2/"), ("ProductionServing:Status:Path", "/_serving"));

        var tables = host.Logs.GetSnapshot().Where(r => r.Id.Id == LocationTable).ToArray();
        Assert.Equal(2, tables.Length);
        var table = tables[1].Field("Table")!;
        Assert.Contains("/v2/", table, StringComparison.Ordinal);
        Assert.DoesNotContain("/api/", table, StringComparison.Ordinal);
        Assert.Contains("status page  /_serving, /_serving/status.json, /_serving/match", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailedReload_LogsNoTable()
    {
        await using var host = await ServingHost.StartAsync(Config);

        host.Reload(("ProductionServing:Status:Path", "relative"));

        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == LocationTable);
        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 1003);
    }
}
