using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Diagnostics;

/// <summary>
/// The access log's lines (docs/observability.md, "Access log"): nginx's <c>combined</c> format with its escaping,
/// then the timing, upstream and location fields, or the same as JSON, for requests whose every field is known.
/// The clock is a FakeTimeProvider set to 2026-12-05 08:01:02 UTC, so the time and <c>rt=</c> are exact.
/// </summary>
public sealed class AccessLogTests : IDisposable
{
    private const string Time = "[05/Dec/2026:08:01:02 +0000]";

    private readonly StaticSite _site = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 8, 1, 2, TimeSpan.Zero));

    public void Dispose() => _site.Dispose();

    /// <summary>A host serving the site on <c>/</c> with the access log on the log category, and the fake clock.</summary>
    private Task<ServingHost> StartAsync(string accessLog = "{}", string locations = "", Action<WebApplication>? beforeServing = null,
        Action<WebApplication>? afterServing = null) =>
        ServingHost.StartAsync(
            ServingJson.Config((locations.Length == 0 ? "" : locations + ", ") + ServingJson.StaticRoot(_site.Root), section: $"\"AccessLog\": {accessLog}"),
            beforeServing, afterServing, services: services => services.AddSingleton<TimeProvider>(_time));

    [Fact]
    public async Task StaticFile_IsLoggedAsExactlyNginxsCombinedLine_WithTheTimingFields()
    {
        // The response takes 3 ms on the fake clock: it moves as the response starts.
        await using var host = await StartAsync(beforeServing: app => app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                _time.Advance(TimeSpan.FromMilliseconds(3));
                return Task.CompletedTask;
            });
            return next(context);
        }));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/data.bin?v=1&w=%22x%22");
        request.Headers.Referrer = new Uri("http://example.com/start");
        request.Headers.TryAddWithoutValidation("User-Agent", "curl/8.5.0");

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            "127.0.0.1 - - [05/Dec/2026:08:01:02 +0000] \"GET /data.bin?v=1&w=%22x%22 HTTP/1.1\" 200 1024 \"http://example.com/start\" \"curl/8.5.0\""
            + " rt=0.003 ua=\"-\" us=\"-\" urt=\"-\" loc=\"/\" qt=- et=-",
            await AccessLogLines.WaitForLastAsync(host, 1));
    }

    [Fact]
    public async Task JsonLine_HasEveryField_Typed()
    {
        await using var host = await StartAsync("""{ "Format": "json" }""");
        using var client = await RawClient.ConnectAsync(host.Port);

        // The user agent's é is sent as UTF-8 (RawClient sends one byte per char).
        await client.SendAsync("GET /data.bin?v=1 HTTP/1.1\r\nHost: localhost\r\nReferer: http://example.com/start\r\n"
            + "User-Agent: agent \"quoted\" \u00C3\u00A9\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
            + "Connection: close\r\n\r\n");
        await client.ReadToCloseAsync();

        using var json = JsonDocument.Parse(await AccessLogLines.WaitForLastAsync(host, 1));
        var line = json.RootElement;
        Assert.Equal(
            ["time", "remote_addr", "request", "method", "path", "protocol", "status", "body_bytes_sent", "referer", "user_agent", "request_time",
                "upstream_addr", "upstream_status", "upstream_response_time", "location", "queue_time", "trace_id", "request_id", "error_type"],
            line.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-12-05T08:01:02.000+00:00", line.GetProperty("time").GetString());
        Assert.Equal("127.0.0.1", line.GetProperty("remote_addr").GetString());
        Assert.Equal("GET /data.bin?v=1 HTTP/1.1", line.GetProperty("request").GetString());
        Assert.Equal("GET", line.GetProperty("method").GetString());
        Assert.Equal("/data.bin", line.GetProperty("path").GetString());
        Assert.Equal("HTTP/1.1", line.GetProperty("protocol").GetString());
        Assert.Equal(200, line.GetProperty("status").GetInt32());
        Assert.Equal(1024, line.GetProperty("body_bytes_sent").GetInt64());
        Assert.Equal("http://example.com/start", line.GetProperty("referer").GetString());
        Assert.Equal("agent \"quoted\" é", line.GetProperty("user_agent").GetString());
        Assert.Equal(JsonValueKind.Number, line.GetProperty("request_time").ValueKind);
        Assert.Equal(0, line.GetProperty("request_time").GetDouble());
        Assert.Equal(JsonValueKind.Null, line.GetProperty("upstream_addr").ValueKind);
        Assert.Equal(JsonValueKind.Null, line.GetProperty("upstream_status").ValueKind);
        Assert.Equal(JsonValueKind.Null, line.GetProperty("upstream_response_time").ValueKind);
        Assert.Equal("/", line.GetProperty("location").GetString());
        Assert.Equal(JsonValueKind.Null, line.GetProperty("queue_time").ValueKind);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", line.GetProperty("trace_id").GetString());
        Assert.Matches("^[0-9a-f]{32}$", line.GetProperty("request_id").GetString());
        Assert.Equal(JsonValueKind.Null, line.GetProperty("error_type").ValueKind);
    }

    [Fact]
    public async Task JsonLine_RequestId_IsTheOneTheLocationsTemplatesUsed()
    {
        await using var host = await StartAsync("""{ "Format": "json" }""",
            locations: """{ "Match": "= /id", "Return": { "Status": 200, "Body": "$request_id" }, "Headers": { "X-Request-ID": "$request_id" } }""");

        using var response = await host.Client.GetAsync("/id");
        var body = await response.Content.ReadAsStringAsync();

        using var json = JsonDocument.Parse(await AccessLogLines.WaitForLastAsync(host, 1));
        Assert.Matches("^[0-9a-f]{32}$", body);
        Assert.Equal(body, Assert.Single(response.Headers.GetValues("X-Request-ID")));
        Assert.Equal(body, json.RootElement.GetProperty("request_id").GetString());
    }

    [Fact]
    public async Task QuoteBackslashAndNonAscii_AreEscapedAsNginxEscapesThem()
    {
        await using var host = await StartAsync();
        using var client = await RawClient.ConnectAsync(host.Port);

        // RawClient sends one byte per char: "\u00C3\u00A9" is é in UTF-8 (0xC3 0xA9), as a browser sends it.
        await client.SendAsync("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nUser-Agent: say \"hi\" \\ \u00C3\u00A9\r\nConnection: close\r\n\r\n");
        await client.ReadToCloseAsync();

        Assert.Equal($"127.0.0.1 - - {Time} \"GET /hello.txt HTTP/1.1\" 200 11 \"-\" \"say \\x22hi\\x22 \\x5C \\xC3\\xA9\" rt=0.000 ua=\"-\" us=\"-\" urt=\"-\" loc=\"/\" qt=- et=-",
            await AccessLogLines.WaitForLastAsync(host, 1));
    }

    [Fact]
    public async Task NotFoundAndMalformedTarget_AreLogged_WithTheirErrorType()
    {
        await using var host = await StartAsync();

        Assert.Equal(404, (await host.SendRawAsync("GET /missing.txt HTTP/1.1")).StatusCode);
        Assert.Equal(400, (await host.SendRawAsync("GET /%2e%2e/x HTTP/1.1")).StatusCode);

        var lines = await AccessLogLines.WaitForLoggedAsync(host, 2);
        Assert.Equal($"127.0.0.1 - - {Time} \"GET /missing.txt HTTP/1.1\" 404 14 \"-\" \"-\" rt=0.000 ua=\"-\" us=\"-\" urt=\"-\" loc=\"/\" qt=- et=not_found", lines[0]);

        // No location was selected for a target that climbs above the root.
        Assert.Equal($"127.0.0.1 - - {Time} \"GET /%2e%2e/x HTTP/1.1\" 400 16 \"-\" \"-\" rt=0.000 ua=\"-\" us=\"-\" urt=\"-\" loc=\"-\" qt=- et=invalid_request_target", lines[1]);
    }

    [Fact]
    public async Task HeadAndNotModified_LogNoBodyBytes()
    {
        await using var host = await StartAsync();
        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/data.bin"));
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/data.bin");
        conditional.Headers.TryAddWithoutValidation("If-None-Match", head.Headers.ETag!.ToString());

        using var notModified = await host.Client.SendAsync(conditional);

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        var lines = await AccessLogLines.WaitForLoggedAsync(host, 2);
        Assert.Contains("\"HEAD /data.bin HTTP/1.1\" 200 0 ", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"GET /data.bin HTTP/1.1\" 304 0 ", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocationWithAccessLogOff_IsNotLogged()
    {
        await using var host = await StartAsync(locations: """{ "Match": "= /healthz", "AccessLog": false, "App": { "Pool": null } }""");

        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync(new Uri("/hello.txt", UriKind.Relative))).StatusCode);

        // Lines are written in the order the requests ended: once the second is there, the first would be.
        var line = Assert.Single(await AccessLogLines.WaitForLoggedAsync(host, 1));
        Assert.Contains("\"GET /hello.txt HTTP/1.1\" 200 11 ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http2Request_IsLoggedWithNginxsProtocolName_AndItsBytes()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.StaticRoot(_site.Root), section: "\"AccessLog\": {}"),
            services: services => services.AddSingleton<TimeProvider>(_time), protocols: HttpProtocols.Http2);
        using var client = new HttpClient
        {
            BaseAddress = host.Client.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TestTimeouts.Wait,
        };

        Assert.Equal(_site.Small, await client.GetByteArrayAsync(new Uri("/data.bin", UriKind.Relative)));
        Assert.Equal("hello world", await client.GetStringAsync(new Uri("/hello.txt", UriKind.Relative)));

        var lines = await AccessLogLines.WaitForLoggedAsync(host, 2);
        Assert.Contains("\"GET /data.bin HTTP/2.0\" 200 1024 ", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"GET /hello.txt HTTP/2.0\" 200 11 ", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Match": "/app/", "App": {} }""", "")]
    [InlineData("""{ "Match": "/app/", "App": { "Pool": "sync" } }""", """ "sync": { "DedicatedThreads": true, "Workers": 1 } """)]
    [InlineData("""{ "Match": "/app/", "App": { "Pool": null } }""", "")]
    public async Task AppResponse_BytesAreCounted_ThroughEveryPoolKind(string location, string pools)
    {
        await using var host = await ServingHost.StartAsync(
            ServingJson.Config(location, pools: pools, section: "\"AccessLog\": {}"), services: services => services.AddSingleton<TimeProvider>(_time));

        var body = await host.Client.GetStringAsync(new Uri("/app/x", UriKind.Relative));

        Assert.Contains($"\"GET /app/x HTTP/1.1\" 200 {body.Length} ", await AccessLogLines.WaitForLastAsync(host, 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccelRedirect_LogsTheClientsRequestLine_TheServedFilesBytes_AndItsLocation()
    {
        await using var host = await StartAsync(
            locations: $$"""{ "Match": "/download", "App": {} }, { "Match": "/files/", "Internal": true, "Static": { "Alias": "{{ServingJson.Escape(_site.Root + "/")}}" } }""",
            afterServing: app => app.Run(context =>
            {
                context.Response.Headers["X-Accel-Redirect"] = "/files/data.bin";
                return context.Response.WriteAsync("the app's body, discarded");
            }));

        using var response = await host.Client.PostAsync(new Uri("/download?id=7", UriKind.Relative), new StringContent("authorize"));

        Assert.Equal(_site.Small, await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("\"POST /download?id=7 HTTP/1.1\" 200 1024 \"-\" \"-\" rt=0.000 ua=\"-\" us=\"-\" urt=\"-\" loc=\"/files/\" qt=0.000 et=-",
            await AccessLogLines.WaitForLastAsync(host, 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppSendFile_CountsTheFilesBytes()
    {
        await using var host = await StartAsync(
            locations: """{ "Match": "/send", "App": {} }""",
            afterServing: app => app.Run(context => context.Response.SendFileAsync(_site.Path_("large.bin"), 1000, null)));

        var bytes = await host.Client.GetByteArrayAsync(new Uri("/send", UriKind.Relative));

        Assert.Equal(_site.Large.Length - 1000, bytes.Length);
        Assert.Contains($"\"GET /send HTTP/1.1\" 200 {_site.Large.Length - 1000} ", await AccessLogLines.WaitForLastAsync(host, 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientGoneBeforeTheResponse_IsLoggedWith499()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartAsync(
            locations: """{ "Match": "/slow", "App": { "Pool": null } }""",
            afterServing: app => app.Run(async context =>
            {
                entered.TrySetResult();
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }));
        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await entered.Task.WaitAsync(TestTimeouts.Wait);

        client.Reset();

        Assert.EndsWith("\"GET /slow HTTP/1.1\" 499 0 \"-\" \"-\" rt=0.000 ua=\"-\" us=\"-\" urt=\"-\" loc=\"/slow\" qt=- et=client_aborted",
            await AccessLogLines.WaitForLastAsync(host, 1), StringComparison.Ordinal);
    }
}
