using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Functional;

/// <summary>
/// The README's quick start (samples/QuickStart), started from its own Program and appsettings.json on
/// Kestrel: every URL it prints at startup answers as its line says.
/// </summary>
public sealed partial class QuickStartTests(QuickStartServers servers) : IClassFixture<QuickStartServers>
{
    /// <summary>Each URL the sample prints (path and query), with the status and a piece of the body it answers.</summary>
    private static readonly Dictionary<string, (HttpStatusCode Status, string BodyPart)> Answers = new(StringComparer.Ordinal)
    {
        ["/"] = (HttpStatusCode.OK, "ProductionServing QuickStart"),
        ["/healthz"] = (HttpStatusCode.OK, "ok"),
        ["/ready"] = (HttpStatusCode.OK, "Healthy"),
        ["/api/hello"] = (HttpStatusCode.OK, "\"location\":\"^~ /api/\""),
        ["/reports/2026.csv"] = (HttpStatusCode.OK, "served by location '~* \\.(csv|xlsx)$'"),
        ["/r/2026"] = (HttpStatusCode.Found, ""),
        ["/assets/site.css"] = (HttpStatusCode.OK, "font-family"),
        ["/download/report.txt?key=demo"] = (HttpStatusCode.OK, "Quarterly report"),
        ["/download/report.txt"] = (HttpStatusCode.Forbidden, ""),
        ["/protected/report.txt"] = (HttpStatusCode.NotFound, "404 Not Found"),
        ["/proxied/hello"] = (HttpStatusCode.OK, "{\"message\":\"hello\",\"location\":\"^~ /api/\"}"),
        ["/blocking/200"] = (HttpStatusCode.OK, "slept 200 ms on ProductionServing worker blocking#"),
        ["/limited"] = (HttpStatusCode.OK, "ok"),
        ["/_serving"] = (HttpStatusCode.OK, "<title>ProductionServing status</title>"),
        ["/_serving/match?path=/reports/2026.csv"] = (HttpStatusCode.OK, "\"reason\":\"regex 1\""),
    };

    private SampleHost<Program> Sample => servers.Sample;

    [Fact]
    public async Task PrintedList_NamesTheBoundAddress_OneUrlALine_WithTheStatusPage()
    {
        var printed = await PrintedAsync();

        var bound = Sample.Address.GetLeftPart(UriPartial.Authority);
        Assert.All(printed, line => Assert.StartsWith(bound + "/", line.Url, StringComparison.Ordinal));
        Assert.All(printed, line => Assert.False(string.IsNullOrWhiteSpace(line.Shows), line.Url));
        Assert.Contains(printed, line => line.Url == bound + "/_serving" && line.Shows.Contains("status page", StringComparison.Ordinal));
        Assert.Equal(printed.Count, printed.Select(static line => line.Url).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task EachPrintedUrl_AnswersAsItsLineSays()
    {
        var printed = await PrintedAsync();
        var bound = Sample.Address.GetLeftPart(UriPartial.Authority);

        // A URL added to the list without an answer here (or taken off it) fails this test.
        Assert.Equal(Answers.Keys.Order(StringComparer.Ordinal), printed.Select(line => line.Url[bound.Length..]).Order(StringComparer.Ordinal));
        using var client = Sample.CreateRawClient();
        foreach (var (url, _) in printed)
        {
            var path = url[bound.Length..];
            using var response = await client.GetAsync(new Uri(url));
            var body = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == Answers[path].Status, $"{path}: {(int)response.StatusCode}, expected {(int)Answers[path].Status}\n{body}");
            Assert.Contains(Answers[path].BodyPart, body, StringComparison.Ordinal);
            await CheckMoreAsync(client, path, response);
        }
    }

    [Fact]
    public async Task Root_AnswersTheSameList_ForTheHostAskedFor()
    {
        var printed = await PrintedAsync();
        using var client = Sample.CreateRawClient();

        var root = await client.GetStringAsync(new Uri("/", UriKind.Relative));

        foreach (var (url, shows) in printed)
        {
            Assert.Contains(url, root, StringComparison.Ordinal);
            Assert.Contains(shows, root, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task ApiHello_IsCompressed_ForAClientThatAsks(string coding)
    {
        using var client = Sample.CreateRawClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/hello", UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Accept-Encoding", coding);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([coding], response.Content.Headers.ContentEncoding);
        Assert.Equal(["Accept-Encoding"], response.Headers.Vary);
        await using var encoded = await response.Content.ReadAsStreamAsync();
        await using Stream decoder = coding == "br" ? new BrotliStream(encoded, CompressionMode.Decompress) : new GZipStream(encoded, CompressionMode.Decompress);
        using var reader = new StreamReader(decoder);
        Assert.Equal("{\"message\":\"hello\",\"location\":\"^~ /api/\"}", await reader.ReadToEndAsync());
    }

    [Theory]
    [InlineData("/internal/secret", HttpStatusCode.NotFound)]
    [InlineData("/download/..%2Fappsettings.json?key=demo", HttpStatusCode.NotFound)]
    [InlineData("/r/x", HttpStatusCode.NotFound)]
    public async Task PathsNotListed_AreRefused(string path, HttpStatusCode status)
    {
        using var client = Sample.CreateRawClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(status, response.StatusCode);
    }

    /// <summary>What a URL's line promises beyond its status and body.</summary>
    private async Task CheckMoreAsync(HttpClient client, string path, HttpResponseMessage response)
    {
        switch (path)
        {
            case "/api/hello":
                Assert.Matches("^[0-9a-f]{32}$", Assert.Single(response.Headers.GetValues("X-Request-Id")));
                Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
                break;
            case "/r/2026":
                Assert.Equal("/reports/2026.csv", response.Headers.Location?.OriginalString);
                break;
            case "/assets/site.css":
                Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());
                Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
                break;
            case "/download/report.txt?key=demo":
                Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
                Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
                break;
            case "/proxied/hello":
                // Answered by the upstream: its /api/ location counts the forwarded request.
                await Poll.UntilAsync(async () => await LocationRequestsAsync(servers.Upstream, "^~ /api/") >= 1, "the upstream counts the forwarded request");
                break;
            case "/limited":
                using (var again = await client.GetAsync(new Uri(path, UriKind.Relative)))
                {
                    Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
                    Assert.True(again.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {again.Headers.RetryAfter}");
                }

                break;
            case "/_serving":
                Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
                break;
        }
    }

    /// <summary>The requests a sample's status page counted for the location <paramref name="match"/>.</summary>
    private static async Task<long> LocationRequestsAsync(SampleHost<Program> sample, string match)
    {
        using var client = sample.CreateRawClient();
        var status = await client.GetFromJsonAsync<JsonElement>(new Uri("/_serving/status.json", UriKind.Relative));
        foreach (var location in status.GetProperty("locations").EnumerateArray())
        {
            if (location.GetProperty("match").GetString() == match)
            {
                return location.GetProperty("requests").GetInt64();
            }
        }

        return 0;
    }

    /// <summary>The URL lines the sample printed once it listened: each URL, and what it shows.</summary>
    private async Task<IReadOnlyList<(string Url, string Shows)>> PrintedAsync()
    {
        _ = Sample.Address;
        var message = await Poll.ForAsync(
            () => Sample.Logs.GetSnapshot().FirstOrDefault(static r => r.Category == "QuickStart" && r.Id.Name == "TryThese")?.Message,
            "the sample prints the URLs to try");
        var lines = message.Split('\n');
        Assert.Equal("Try these:", lines[0]);
        var printed = new List<(string, string)>();
        foreach (var line in lines.Skip(1))
        {
            var match = UrlLine().Match(line);
            Assert.True(match.Success, $"Not a URL line: '{line}'");
            printed.Add((match.Groups["url"].Value, match.Groups["shows"].Value));
        }

        Assert.NotEmpty(printed);
        return printed;
    }

    [GeneratedRegex(@"^  (?<url>http://\S+) +(?<shows>\S.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex UrlLine();
}
