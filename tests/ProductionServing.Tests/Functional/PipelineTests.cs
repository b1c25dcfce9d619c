using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Functional;

/// <summary>The middleware on real Kestrel: paths as clients send them, location selection, and refusals.</summary>
public sealed class PipelineTests
{
    private const string Config = """
    { "ProductionServing": { "Locations": [
        { "Match": "= /healthz", "App": { "Pool": null } },
        { "Match": "/api/", "App": {} },
        { "Match": "^~ /static/", "App": {} },
        { "Match": "~* \\.csv$", "App": {} },
        { "Match": "/private/", "Internal": true, "App": {} },
        { "Match": "~ ^/(a+)+$", "App": {} }
    ] } }
    """;

    [Theory]
    [InlineData("GET /healthz HTTP/1.1", "0|= /healthz|App||/healthz")]
    [InlineData("GET /api/users?x=1 HTTP/1.1", "1|/api/|App|default|/api/users")]
    // The query is not part of the matched path.
    [InlineData("GET /api/users?next=/static/a.csv HTTP/1.1", "1|/api/|App|default|/api/users")]
    [InlineData("GET /static/report.csv HTTP/1.1", "2|^~ /static/|App|default|/static/report.csv")]
    [InlineData("GET /api/report.CSV HTTP/1.1", "3|~* \\.csv$|App|default|/api/report.CSV")]
    [InlineData("GET /elsewhere HTTP/1.1", "-1||App|default|/elsewhere")]
    // Normalized before matching: encoded letters, dot segments, duplicate slashes, encoded slashes.
    [InlineData("GET /%61pi/users HTTP/1.1", "1|/api/|App|default|/api/users")]
    [InlineData("GET /static/../api/users HTTP/1.1", "1|/api/|App|default|/api/users")]
    [InlineData("GET //api//users HTTP/1.1", "1|/api/|App|default|//api//users")]
    [InlineData("GET /api%2Fusers HTTP/1.1", "1|/api/|App|default|/api%2Fusers")]
    // Absolute-form request target (RFC 9112 §3.2.2).
    [InlineData("GET http://localhost/api/users HTTP/1.1", "1|/api/|App|default|/api/users")]
    public async Task Request_IsHandedToTheSelectedLocation(string requestLine, string expected)
    {
        await using var host = await ServingHost.StartAsync(Config);

        var response = await host.SendRawAsync(requestLine);

        Assert.Equal(200, response.StatusCode);
        Assert.Equal(expected, response.Body);
    }

    [Theory]
    [InlineData("GET /../etc/passwd HTTP/1.1")]
    [InlineData("GET /api/../../etc/passwd HTTP/1.1")]
    [InlineData("GET /%2e%2e/etc/passwd HTTP/1.1")]
    [InlineData("GET /api/..%2F..%2Fetc%2Fpasswd HTTP/1.1")]
    [InlineData("GET /api/%2E%2E/%2E%2E/x HTTP/1.1")]
    [InlineData("GET /%C0%AE%C0%AE/etc/passwd HTTP/1.1")]
    [InlineData("GET /api/a%00b HTTP/1.1")]
    [InlineData("GET /api/a%zz HTTP/1.1")]
    [InlineData("GET http://localhost/../etc/passwd HTTP/1.1")]
    public async Task MaliciousOrMalformedPath_Gets400_AndNeverReachesTheApp(string requestLine)
    {
        await using var host = await ServingHost.StartAsync(Config);

        var response = await host.SendRawAsync(requestLine);

        Assert.Equal(400, response.StatusCode);
        Assert.Equal(0, host.AppInvocations);
    }

    [Fact]
    public async Task InternalLocation_Gets404_AndNeverReachesTheApp()
    {
        await using var host = await ServingHost.StartAsync(Config);

        var response = await host.Client.GetAsync(new Uri("/private/report", UriKind.Relative));

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal(0, host.AppInvocations);
    }

    [Fact]
    public async Task PathologicalRegex_TimesOut_With500AndAnErrorNamingThePattern()
    {
        await using var host = await ServingHost.StartAsync(Config);

        // "^/(a+)+$" against many a's and a mismatch at the end backtracks exponentially.
        var response = await host.Client.GetAsync(new Uri("/" + new string('a', 40) + "!", UriKind.Relative));

        Assert.Equal(500, (int)response.StatusCode);
        Assert.Equal(0, host.AppInvocations);
        var entry = Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 1102);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal("^/(a+)+$", entry.Field("Pattern"));
    }

    [Fact]
    public async Task NoConfiguration_EverythingGoesToTheApp()
    {
        await using var host = await ServingHost.StartAsync("{}");

        var response = await host.Client.GetStringAsync(new Uri("/anything/at/all", UriKind.Relative));

        Assert.Equal("-1||App|default|/anything/at/all", response);
    }

    [Fact]
    public async Task PathBase_IsStrippedBeforeMatching()
    {
        await using var host = await ServingHost.StartAsync(Config, app => app.UsePathBase("/base"));

        var response = await host.Client.GetStringAsync(new Uri("/base/api/users", UriKind.Relative));

        Assert.Equal("1|/api/|App|default|/api/users", response);
    }

    [Fact]
    public async Task PathBase_ClimbingAboveRoot_Gets400()
    {
        await using var host = await ServingHost.StartAsync(Config, app => app.UsePathBase("/base"));

        var response = await host.SendRawAsync("GET /base/../../etc/passwd HTTP/1.1");

        Assert.Equal(400, response.StatusCode);
        Assert.Equal(0, host.AppInvocations);
    }

    [Fact]
    public async Task ReExecutedErrorRequest_IsMatchedOnItsNewPath()
    {
        // UseStatusCodePagesWithReExecute runs the pipeline again under /error/404 while the raw target
        // stays the original: the re-executed request must be matched on /error/404, not on /private/x.
        const string config = """
        { "ProductionServing": { "Locations": [
            { "Match": "/private/", "Internal": true, "App": {} },
            { "Match": "/error/", "App": { "Pool": null } }
        ] } }
        """;
        await using var host = await ServingHost.StartAsync(config, app => app.UseStatusCodePagesWithReExecute("/error/{0}"));

        var response = await host.Client.GetAsync(new Uri("/private/x", UriKind.Relative));

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("1|/error/|App||/error/404", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AsteriskFormOptions_GoesToTheApp()
    {
        await using var host = await ServingHost.StartAsync(Config);

        var response = await host.SendRawAsync("OPTIONS * HTTP/1.1");

        Assert.Equal(200, response.StatusCode);
        Assert.StartsWith("-1||App|default|", response.Body, StringComparison.Ordinal);
    }
}
