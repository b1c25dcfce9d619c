using System.Net;
using System.Text.Json;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Status;

/// <summary>
/// <c>&lt;Path&gt;/match?path=…</c>: which location a path selects and why, in nginx's order, and what the
/// winner resolves to now (a file, the server the balancer would pick, a pool and its queue).
/// </summary>
public sealed class MatchTests : IAsyncLifetime, IDisposable
{
    private readonly StaticSite _site = new();
    private UpstreamHost _a = null!;
    private UpstreamHost _b = null!;
    private ServingHost _host = null!;

    public async Task InitializeAsync()
    {
        _a = await UpstreamHost.NamedAsync("a");
        _b = await UpstreamHost.NamedAsync("b");
        var root = ServingJson.Escape(_site.Root);
        _host = await ServingHost.StartAsync(ServingJson.Config($$"""
            { "Match": "= /exact", "App": {} },
            { "Match": "^~ /static/", "Static": { "Alias": "{{root}}/" } },
            { "Match": "~ \\.php$", "App": { "Pool": "p" } },
            { "Match": "~* \\.(png|jpe?g)$", "Static": { "Root": "{{root}}" } },
            { "Match": "/api/", "Proxy": { "Pass": "http://backend" } },
            { "Match": "/internal/", "Internal": true, "Static": { "Root": "{{root}}" } },
            { "Match": "/docs", "Static": { "Root": "{{root}}", "TryFiles": ["$uri", "$uri/", "@app"] } }
            """,
            ServingJson.Upstream("backend", "", _a.Address, _b.Address),
            pools: """ "p": { "MaxConcurrency": 3, "QueueLimit": 7 } """,
            section: StatusTestClient.Section()));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    public void Dispose() => _site.Dispose();

    [Fact]
    public async Task Exact_WinsAtOnce_AndResolvesToItsPool()
    {
        var answer = await Ok("/exact");

        Assert.Equal("exact", Reason(answer));
        Assert.Equal(0, answer.GetProperty("exact").GetProperty("index").GetInt32());
        Assert.Equal(("= /exact", "exact", "app"), Winner(answer));
        Assert.All(answer.GetProperty("regexes").EnumerateArray(), r => Assert.Equal("not tried", r.GetProperty("result").GetString()));
        Assert.Equal(("app", "default"), (Resolved(answer, "handler"), Resolved(answer, "pool")));
    }

    [Fact]
    public async Task CaretTildePrefix_StopsTheRegexSearch_AndResolvesToTheFile()
    {
        var answer = await Ok("/static/hello.txt");

        Assert.Equal("^~ prefix", Reason(answer));
        Assert.True(answer.GetProperty("longest_prefix").GetProperty("stops_regex_search").GetBoolean());
        Assert.All(answer.GetProperty("regexes").EnumerateArray(), r => Assert.Equal("not tried", r.GetProperty("result").GetString()));
        Assert.Equal(("file", Path.Combine(_site.Root, "hello.txt")), (Resolved(answer, "result"), Resolved(answer, "file")));
    }

    [Fact]
    public async Task Regex_FirstMatchInOrderWins_OverTheLongestPrefix()
    {
        var answer = await Ok("/api/v1/x.PNG");

        Assert.Equal("regex 2", Reason(answer));
        Assert.Equal(("/api/", false), (answer.GetProperty("longest_prefix").GetProperty("match").GetString(),
            answer.GetProperty("longest_prefix").GetProperty("stops_regex_search").GetBoolean()));
        Assert.Equal(["no match", "match"], [.. answer.GetProperty("regexes").EnumerateArray().Select(r => r.GetProperty("result").GetString()!)]);
        Assert.Equal(3, answer.GetProperty("location").GetProperty("index").GetInt32());
        Assert.Equal(("not found", 404), (Resolved(answer, "result"), answer.GetProperty("resolves_to").GetProperty("status").GetInt32()));

        var php = await Ok("/api/x.php");
        Assert.Equal("regex 1", Reason(php));
        Assert.Equal(["match", "not tried"], [.. php.GetProperty("regexes").EnumerateArray().Select(r => r.GetProperty("result").GetString()!)]);
        Assert.Equal((3, 7, 0), (php.GetProperty("resolves_to").GetProperty("limit").GetInt32(), php.GetProperty("resolves_to").GetProperty("queue_limit").GetInt32(),
            php.GetProperty("resolves_to").GetProperty("queued").GetInt32()));
    }

    [Fact]
    public async Task LongestPrefix_WinsWhenNoRegexMatches_AndNamesTheServerThatTheNextRequestGets()
    {
        for (var i = 0; i < 3; i++)
        {
            var answer = await Ok("/api/users");

            Assert.Equal("longest prefix", Reason(answer));
            Assert.Equal(["no match", "no match"], [.. answer.GetProperty("regexes").EnumerateArray().Select(r => r.GetProperty("result").GetString()!)]);
            Assert.Equal(("proxy", "backend", "RoundRobin"), (Resolved(answer, "handler"), Resolved(answer, "upstream"), Resolved(answer, "balancing")));
            var next = Resolved(answer, "next_server");
            Assert.Equal("round robin: next is " + next, Resolved(answer, "rule"));

            // Asking did not move the balancer on: the next real request goes to the server named.
            var served = await _host.Client.GetStringAsync("/api/users");
            Assert.Equal(next, served == "a" ? new Uri(_a.Address).Authority : new Uri(_b.Address).Authority);
        }
    }

    [Fact]
    public async Task NoMatch_GoesToTheAppThroughTheDefaultPool()
    {
        var answer = await Ok("/elsewhere");

        Assert.Equal("no match", Reason(answer));
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("exact").ValueKind);
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("longest_prefix").ValueKind);
        Assert.Equal((-1, JsonValueKind.Null), (answer.GetProperty("location").GetProperty("index").GetInt32(), answer.GetProperty("location").GetProperty("match").ValueKind));
        Assert.Equal(("app", "default"), (Resolved(answer, "handler"), Resolved(answer, "pool")));
    }

    [Fact]
    public async Task Internal_IsReportedAsAClientsNotFound()
    {
        var answer = await Ok("/internal/hello.txt");

        Assert.Equal("longest prefix", Reason(answer));
        Assert.True(answer.GetProperty("location").GetProperty("internal").GetBoolean());
        Assert.StartsWith("404", answer.GetProperty("client_gets").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/static/link-out.txt")] // a link out of the root
    [InlineData("/static/evil.txt")] // a link whose target climbs out through another link
    [InlineData("/static/.env")] // hidden
    [InlineData("/static/dir-out/secret.txt")]
    public async Task Static_NeverRevealsAnythingOutsideTheRoot(string path)
    {
        var answer = await Ok(path);

        Assert.Equal(("not found", JsonValueKind.Null), (Resolved(answer, "result"), answer.GetProperty("resolves_to").GetProperty("file").ValueKind));
        Assert.DoesNotContain(_site.Folder + "/secret", answer.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Static_FollowsTryFiles_FolderRedirect_AndIndex()
    {
        var folder = await Ok("/docs");
        Assert.Equal(("redirect", 301), (Resolved(folder, "result"), folder.GetProperty("resolves_to").GetProperty("status").GetInt32()));
        var tries = folder.GetProperty("resolves_to").GetProperty("try_files");
        Assert.Equal([("directory", false), ("directory", true)], [.. tries.EnumerateArray().Select(t => (t.GetProperty("found").GetString(), t.GetProperty("taken").GetBoolean()))]);

        var index = await Ok("/docs/");
        Assert.Equal(("index file", Path.Combine(_site.Root, "docs", "index.html")), (Resolved(index, "result"), Resolved(index, "file")));

        var missing = await Ok("/docs/nope");
        Assert.Equal("@app fallback", Resolved(missing, "result"));
    }

    [Fact]
    public async Task PathIsReadAsARequestTarget_PercentDecodedAndNormalized()
    {
        var answer = await Ok("/static/./x/..//hello%2Etxt?query=ignored");

        Assert.Equal("/static/hello.txt", answer.GetProperty("normalized").GetString());
        Assert.Equal("file", Resolved(answer, "result"));
    }

    [Theory]
    [InlineData("/a%2")]
    [InlineData("/../x")]
    [InlineData("/a%00b")]
    [InlineData("relative")]
    [InlineData("")]
    public async Task MalformedPath_Gets400_WithAReason(string path)
    {
        var (status, answer) = await _host.Client.MatchAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task TheStatusPagesOwnPath_IsFlagged()
    {
        var answer = await Ok("/_serving/status.json");

        Assert.True(answer.GetProperty("status_page").GetBoolean());
        Assert.Equal("no match", Reason(answer));
    }

    private async Task<JsonElement> Ok(string path)
    {
        var (status, answer) = await _host.Client.MatchAsync(path);
        Assert.True(status == HttpStatusCode.OK, answer.ToString());
        return answer;
    }

    private static string? Reason(JsonElement answer) => answer.GetProperty("reason").GetString();

    private static (string?, string?, string?) Winner(JsonElement answer)
    {
        var location = answer.GetProperty("location");
        return (location.GetProperty("match").GetString(), location.GetProperty("kind").GetString(), location.GetProperty("handler").GetString());
    }

    private static string? Resolved(JsonElement answer, string field) => answer.GetProperty("resolves_to").GetProperty(field).GetString();
}
