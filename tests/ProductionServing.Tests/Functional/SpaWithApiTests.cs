extern alias SpaWithApi;

using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Tests.Infrastructure;
using SpaProgram = SpaWithApi::Program;

namespace ProductionServing.Tests.Functional;

/// <summary>
/// samples/SpaWithApi, started from its own Program and appsettings.json on Kestrel: what its README
/// promises, checked at the HTTP level.
/// </summary>
public sealed partial class SpaWithApiTests(SampleHost<SpaProgram> sample) : IClassFixture<SampleHost<SpaProgram>>
{
    private string WebRoot => Path.Combine(sample.Services.GetRequiredService<IWebHostEnvironment>().ContentRootPath, "wwwroot");

    [Theory]
    [InlineData("/")]
    [InlineData("/index.html")]
    [InlineData("/todos/42")]
    [InlineData("/todos/42?tab=notes")]
    public async Task RootAndClientSideRoutes_GetIndexHtml(string path)
    {
        using var client = sample.CreateRawClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(WebRoot, "index.html")), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task FingerprintedAssets_AreImmutable_AndNamedForTheirContent()
    {
        using var client = sample.CreateRawClient();
        var assets = Assets();
        Assert.Equal([".css", ".js"], assets.Select(static a => Path.GetExtension(a)).Order(StringComparer.Ordinal));
        var index = await File.ReadAllTextAsync(Path.Combine(WebRoot, "index.html"));
        var readme = await File.ReadAllTextAsync(Path.Combine(WebRoot, "..", "README.md"));

        foreach (var asset in assets)
        {
            // An immutable name must never get other bytes: the name carries the content's SHA-256.
            var bytes = await File.ReadAllBytesAsync(asset);
            var name = Path.GetFileName(asset);
            Assert.Equal(FingerprintOf(name), Convert.ToHexStringLower(SHA256.HashData(bytes))[..8]);
            Assert.Contains($"\"/assets/{name}\"", index, StringComparison.Ordinal);
            Assert.Contains(name, readme, StringComparison.Ordinal);

            using var response = await client.GetAsync(new Uri("/assets/" + name, UriKind.Relative));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task Script_IsCompressed_AsTheClientAsks_AndDecodesToTheFile(string coding)
    {
        using var client = sample.CreateRawClient();
        var script = Assets().Single(static a => a.EndsWith(".js", StringComparison.Ordinal));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/assets/" + Path.GetFileName(script), UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Accept-Encoding", coding);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([coding], response.Content.Headers.ContentEncoding);
        Assert.Equal(["Accept-Encoding"], response.Headers.Vary);
        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        var encoded = await response.Content.ReadAsByteArrayAsync();
        var file = await File.ReadAllBytesAsync(script);
        Assert.True(encoded.Length < file.Length, $"{coding}: {encoded.Length} bytes for a {file.Length}-byte file");
        Assert.Equal(file, Decode(encoded, coding));
    }

    [Theory]
    [InlineData("/assets/nope.js")]
    [InlineData("/assets/app.00000000.js")]
    public async Task MissingAsset_Is404_NotIndexHtml(string path)
    {
        using var client = sample.CreateRawClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("<!doctype html>", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Api_ListsGetsAndCreates()
    {
        using var client = sample.CreateRawClient();

        using var list = await client.GetAsync(new Uri("/api/todos", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("application/json", list.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", list.Headers.CacheControl?.ToString());
        var todos = await list.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(todos.EnumerateArray(), static t => t.GetProperty("id").GetInt32() == 1 && t.GetProperty("title").GetString() == "Read the ProductionServing README");

        using var one = await client.GetAsync(new Uri("/api/todos/2", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal("Serve the SPA and its API from one process", (await one.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());

        using var created = await client.PostAsJsonAsync(new Uri("/api/todos", UriKind.Relative), new { title = "  Test the sample  " });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var todo = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Test the sample", todo.GetProperty("title").GetString());
        Assert.False(todo.GetProperty("done").GetBoolean());
        Assert.Equal($"/api/todos/{todo.GetProperty("id").GetInt32()}", created.Headers.Location?.OriginalString);

        using var again = await client.GetAsync(created.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("Test the sample", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("""{ "title": "" }""")]
    [InlineData("""{ "title": "   " }""")]
    [InlineData("""{ }""")]
    [InlineData("""{ "title": null }""")]
    public async Task Api_CreateWithoutATitle_Is400WithTheFieldsProblem(string json)
    {
        using var client = sample.CreateRawClient();

        using var response = await client.PostAsync(new Uri("/api/todos", UriKind.Relative), new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("A title is required.", problem.GetProperty("errors").GetProperty("title")[0].GetString());
    }

    [Fact]
    public async Task Api_CreateWithATitleTooLong_Is400()
    {
        using var client = sample.CreateRawClient();

        using var response = await client.PostAsJsonAsync(new Uri("/api/todos", UriKind.Relative), new { title = new string('x', 201) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("A title has at most 200 characters.", problem.GetProperty("errors").GetProperty("title")[0].GetString());
    }

    [Fact]
    public async Task Api_BodyOverMaxBodySize_Is413BeforeTheApp()
    {
        using var client = sample.CreateRawClient();
        var json = $$"""{ "title": "{{new string('x', 70_000)}}" }""";

        using var response = await client.PostAsync(new Uri("/api/todos", UriKind.Relative), new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/x")]
    [InlineData("/api/todos/abc")]
    [InlineData("/api/todos/999999")]
    public async Task Api_UnknownPath_GetsTheApps404_NotIndexHtml(string path)
    {
        using var client = sample.CreateRawClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(404, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Api_RunsInTheApiPool()
    {
        using var client = sample.CreateRawClient();

        using var response = await client.GetAsync(new Uri("/_serving/match?path=/api/todos", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var match = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("^~ /api/", match.GetProperty("location").GetProperty("match").GetString());
        Assert.Equal("api", match.GetProperty("resolves_to").GetProperty("pool").GetString());
        Assert.Equal(64, match.GetProperty("resolves_to").GetProperty("limit").GetInt32());
    }

    /// <summary>The files under wwwroot/assets, each named <c>name.fingerprint.ext</c>.</summary>
    private string[] Assets() => Directory.GetFiles(Path.Combine(WebRoot, "assets"));

    private static string FingerprintOf(string name)
    {
        var match = Fingerprinted().Match(name);
        Assert.True(match.Success, $"{name} is not named name.<8 hex digits>.ext");
        return match.Groups[1].Value;
    }

    private static byte[] Decode(byte[] encoded, string coding)
    {
        using Stream decoder = coding == "br"
            ? new BrotliStream(new MemoryStream(encoded), CompressionMode.Decompress)
            : new GZipStream(new MemoryStream(encoded), CompressionMode.Decompress);
        using var decoded = new MemoryStream();
        decoder.CopyTo(decoded);
        return decoded.ToArray();
    }

    [GeneratedRegex(@"^[a-z]+\.([0-9a-f]{8})\.[a-z]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Fingerprinted();
}
