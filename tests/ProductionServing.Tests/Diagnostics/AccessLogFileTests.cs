using System.Net;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductionServing.Diagnostics;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Diagnostics;

/// <summary>
/// The access log's file (<c>AccessLog.Path</c>, relative to the content root): appended by a background writer
/// that never holds a request up; a full buffer drops lines and counts them; reloads keep the writer while the
/// path stays; shutdown writes what is queued and closes the file. The disk side is held still with
/// <see cref="GatedDisk"/> where a test needs the writer behind.
/// </summary>
public sealed class AccessLogFileTests : IDisposable
{
    private readonly StaticSite _site = new();

    public void Dispose() => _site.Dispose();

    private string LogPath(string relative) => Path.Combine(_site.Folder, relative);

    private Task<ServingHost> StartAsync(string accessLog, GatedDisk? disk = null) =>
        ServingHost.StartAsync(ServingJson.Config(ServingJson.StaticRoot(_site.Root), section: $"\"AccessLog\": {accessLog}"),
            contentRoot: _site.Folder, services: disk is null ? null : services => AccessLogLines.UseOpener(services, disk.Open));

    private static Task<string> GetAsync(ServingHost host, string path) => host.Client.GetStringAsync(new Uri(path, UriKind.Relative));

    [Fact]
    public async Task Lines_AreAppendedToTheFile_InAFolderCreatedUnderTheContentRoot()
    {
        File.WriteAllText(Path.Combine(_site.Folder, "existing.log"), "");
        await using var host = await StartAsync("""{ "Path": "logs/today/access.log" }""");
        Assert.True(File.Exists(LogPath("logs/today/access.log")), "The file is created at startup.");

        await GetAsync(host, "/hello.txt");
        await GetAsync(host, "/data.bin");

        var lines = await AccessLogLines.WaitForFileAsync(LogPath("logs/today/access.log"), 2);
        Assert.Contains("\"GET /hello.txt HTTP/1.1\" 200 11 ", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"GET /data.bin HTTP/1.1\" 200 1024 ", lines[1], StringComparison.Ordinal);
        Assert.Empty(AccessLogLines.Logged(host));
    }

    [Fact]
    public async Task Shutdown_WaitsForTheQueuedLines_AndClosesTheFile()
    {
        var disk = new GatedDisk();
        var host = await StartAsync("""{ "Path": "access.log" }""", disk);
        var files = host.App.Services.GetRequiredService<AccessLogFiles>();
        try
        {
            await GetAsync(host, "/hello.txt?n=1");
            await disk.Entered;
            await GetAsync(host, "/hello.txt?n=2");
            await GetAsync(host, "/hello.txt?n=3");

            var stopping = host.App.StopAsync();

            // The access log's part of the shutdown has begun (its writer is retired) and waits for the held disk.
            await Poll.UntilAsync(() => files.Current is null, "the access log's writer is retired");
            Assert.False(stopping.IsCompleted, "The host finished stopping while access-log lines were still queued.");
            disk.Release();
            await stopping.WaitAsync(TestTimeouts.Wait);

            var lines = AccessLogLines.InFile(LogPath("access.log"));
            Assert.Equal(3, lines.Count);
            Assert.Contains("/hello.txt?n=3 ", lines[2], StringComparison.Ordinal);
        }
        finally
        {
            disk.Release();
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task FullBuffer_DropsLines_CountsThem_AndWarnsOnce()
    {
        var disk = new GatedDisk();
        await using var host = await StartAsync("""{ "Path": "access.log", "BufferSize": 2 }""", disk);
        using var dropped = new MetricCollector<long>(host.App.Services.GetRequiredService<IMeterFactory>(), ServingMetrics.MeterName,
            "production_serving.access_log.dropped");
        try
        {
            // The writer takes the first line and is held on the disk; two more fill the buffer; two are dropped.
            await GetAsync(host, "/hello.txt?n=1");
            await disk.Entered;
            for (var n = 2; n <= 5; n++)
            {
                await GetAsync(host, $"/hello.txt?n={n}");
            }

            await Poll.UntilAsync(() => dropped.GetMeasurementSnapshot().EvaluateAsCounter() == 2, "two dropped lines are counted");
            var warning = await host.Logs.WaitForEventAsync(5102);
            Assert.Equal(LogLevel.Warning, warning.Level);
            Assert.Equal(LogPath("access.log"), warning.Field("Path"));
        }
        finally
        {
            disk.Release();
        }

        var lines = await AccessLogLines.WaitForFileAsync(LogPath("access.log"), 3);
        Assert.Equal(["n=1", "n=2", "n=3"], lines.Select(line => line[(line.IndexOf('?', StringComparison.Ordinal) + 1)..line.IndexOf(' ', line.IndexOf('?', StringComparison.Ordinal))]));
        Assert.Single(host.Logs.GetSnapshot(), record => record.Id.Id == 5102);
        Assert.Equal(2, dropped.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task LongLines_AreBoundedInBytes_NotOnlyInLines()
    {
        // BufferSize 1000 would let 1000 lines wait; 20 KiB lines fill the queue's bytes (1 KiB a line, at
        // least 256 KiB: here 1000 KiB) after 50 of them, so a slow disk cannot hold a line's worst case times BufferSize.
        var disk = new GatedDisk();
        await using var host = await StartAsync("""{ "Path": "access.log", "BufferSize": 1000 }""", disk);
        using var dropped = new MetricCollector<long>(host.App.Services.GetRequiredService<IMeterFactory>(), ServingMetrics.MeterName,
            "production_serving.access_log.dropped");
        var referer = "http://example.com/" + new string('r', 20 * 1024);
        try
        {
            await GetAsync(host, "/hello.txt?n=0");
            await disk.Entered;
            for (var n = 1; n <= 60; n++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/hello.txt?n={n}");
                request.Headers.TryAddWithoutValidation("Referer", referer);
                using var response = await host.Client.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            // A line is queued after its response has gone out, so the last ones may still be on their way when the
            // loop ends: wait until at least the lines the bound cannot hold are dropped, then count.
            var bound = AccessLogQueue.MaxBytesFor(1000);
            var mostKept = bound / referer.Length;
            await Poll.UntilAsync(() => dropped.GetMeasurementSnapshot().EvaluateAsCounter() >= 60 - mostKept, "lines past the byte bound are dropped");
            var kept = 60 - dropped.GetMeasurementSnapshot().EvaluateAsCounter();
            Assert.InRange(kept, bound / (referer.Length + 1024), mostKept);
        }
        finally
        {
            disk.Release();
        }
    }

    [Fact]
    public async Task Reload_KeepsTheWriterWhileThePathStays_AndSwitchesFilesWhenItChanges()
    {
        await using var host = await StartAsync("""{ "Path": "a.log" }""");
        var files = host.App.Services.GetRequiredService<AccessLogFiles>();
        var first = files.Current;
        await GetAsync(host, "/hello.txt?n=1");
        await AccessLogLines.WaitForFileAsync(LogPath("a.log"), 1);

        host.Reload(("ProductionServing:AccessLog:Format", "json"));
        await GetAsync(host, "/hello.txt?n=2");

        Assert.Same(first, files.Current);
        var lines = await AccessLogLines.WaitForFileAsync(LogPath("a.log"), 2);
        Assert.StartsWith("127.0.0.1 - - [", lines[0], StringComparison.Ordinal);
        Assert.Equal("/hello.txt", JsonDocument.Parse(lines[1]).RootElement.GetProperty("path").GetString());

        host.Reload(("ProductionServing:AccessLog:Path", "b.log"));
        await GetAsync(host, "/hello.txt?n=3");

        Assert.NotSame(first, files.Current);
        await first!.Completion.WaitAsync(TestTimeouts.Wait);
        Assert.Contains("?n=3 ", Assert.Single(await AccessLogLines.WaitForFileAsync(LogPath("b.log"), 1)), StringComparison.Ordinal);
        Assert.Equal(2, AccessLogLines.InFile(LogPath("a.log")).Count);
    }

    [Theory]
    [InlineData("""{ "Format": "xml" }""", "AccessLog.Format: 'xml' is not a format; use combined (nginx's, with the upstream and timing fields) or json.")]
    [InlineData("""{ "BufferSize": 0 }""", "AccessLog.BufferSize: must be at least 1 (got 0).")]
    [InlineData("""{ "Path": " " }""", "AccessLog.Path: must name a file (relative to the content root), or be left out to log the lines on the category ProductionServing.AccessLog.")]
    [InlineData("""{ "Path": "logs/" }""", "AccessLog.Path: 'logs/' names a folder; name the file, for example 'logs/access.log'.")]
    public void InvalidOptions_AreRefused_NamingTheKey(string accessLog, string failure)
    {
        Assert.Equal([failure], TestConfig.Failures(ServingJson.Config("", section: $"\"AccessLog\": {accessLog}")));
    }

    [Theory]
    [InlineData("""{ "Format": "json", "Path": "logs/access.log", "BufferSize": 100 }""")]
    [InlineData("""{ "Format": "Combined" }""")]
    [InlineData("{}")]
    public void ValidOptions_AreAccepted(string accessLog)
    {
        Assert.Empty(TestConfig.Failures(ServingJson.Config("", section: $"\"AccessLog\": {accessLog}")));
    }

    [Fact]
    public async Task PathWhoseFolderCannotBeCreated_FailsAtStartup_NamingTheKey()
    {
        File.WriteAllText(Path.Combine(_site.Folder, "blocker"), "a file where the folder would be");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = _site.Folder });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(TestConfig.FromJson(
            ServingJson.Config("", section: """ "AccessLog": { "Path": "blocker/access.log" } """)).AsEnumerable());
        builder.WebHost.UseTestServer();
        builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));
        await using var app = builder.Build();

        var exception = Assert.Throws<OptionsValidationException>(() => app.UseProductionServing());

        Assert.StartsWith($"AccessLog.Path: cannot create the folder '{Path.Combine(_site.Folder, "blocker")}'", Assert.Single(exception.Failures), StringComparison.Ordinal);
    }
}
