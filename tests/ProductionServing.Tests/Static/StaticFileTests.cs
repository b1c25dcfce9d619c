using System.Net;
using System.Net.Http.Headers;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>Files, folders, methods and headers of static locations (docs/static.md), over real Kestrel.</summary>
public sealed class StaticFileTests(StaticHostFixture fixture) : IClassFixture<StaticHostFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task File_Returns200WithBodyTypeLengthAndValidators()
    {
        var response = await _client.GetAsync(Uri("/hello.txt"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello world", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(11, response.Content.Headers.ContentLength);
        Assert.NotNull(response.Headers.ETag);
        Assert.False(response.Headers.ETag!.IsWeak);
        Assert.Equal(File.GetLastWriteTimeUtc(fixture.Site.Path_("hello.txt")).ToString("R"), response.Content.Headers.LastModified?.ToString("R"));
        Assert.Equal(["bytes"], response.Headers.AcceptRanges);
        Assert.Equal("public, max-age=60", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Head_SendsTheSameHeadersAndNoBody()
    {
        var get = await _client.GetAsync(Uri("/data.bin"));
        var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, Uri("/data.bin")));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    public async Task OtherMethods_Get405WithAllow(string method)
    {
        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), Uri("/hello.txt")));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow);
    }

    [Fact]
    public async Task OtherMethods_WithAppFallback_GoToTheApp()
    {
        var response = await _client.PostAsync(Uri("/try/hello.txt"), new StringContent("x"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith("|/try/hello.txt", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/missing.txt")]
    [InlineData("/docs/missing/")]
    [InlineData("/hello.txt/")]
    [InlineData("/hello.txt/x")]
    public async Task Missing_Gets404(string path)
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(Uri(path))).StatusCode);
    }

    [Theory]
    [InlineData("/docs", "/docs/")]
    [InlineData("/docs?x=1&y=2", "/docs/?x=1&y=2")]
    [InlineData("/auto/sub", "/auto/sub/")]
    public async Task Folder_WithoutTrailingSlash_Redirects301(string path, string location)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _client.BaseAddress };

        var response = await client.GetAsync(Uri(path));

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(location, response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("/", "<h1>home</h1>")]
    [InlineData("/docs/", "<h1>docs</h1>")]
    public async Task Folder_WithIndex_ServesIt(string path, string body)
    {
        var response = await _client.GetAsync(Uri(path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/empty/")]
    [InlineData("/noindex/")]
    public async Task Folder_WithoutIndexOrAutoIndex_Gets403AsNginx(string path)
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await _client.GetAsync(Uri(path))).StatusCode);
    }

    [Fact]
    public async Task AutoIndex_ListsEntriesEscaped_WithoutHiddenOnes()
    {
        var response = await _client.GetAsync(Uri("/auto/"));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>Index of /auto/</title>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"a.txt\">a.txt</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"b%20c%26%3Cd%3E.txt\">b c&amp;&lt;d&gt;.txt</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"sub/\">sub/</a>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(".hidden", html, StringComparison.Ordinal);
        Assert.DoesNotContain("escape.txt", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"inside.txt\">inside.txt</a>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<d>", html, StringComparison.Ordinal);
    }

    [Theory]
    // nginx-tests autoindex.t: "colon not scheme" (a link must not read as a URL scheme), "escaped url",
    // "escaped ? in url".
    [InlineData("href=\"test-colon%3Ablah\"")]
    [InlineData("href=\"test-escape-url-%25\"")]
    [InlineData("href=\"test-escape-url2-%3F\"")]
    public async Task AutoIndex_EscapesLinksAsNginx(string link)
    {
        var html = await _client.GetStringAsync(Uri("/auto/"));

        Assert.Contains(link, html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"test-colon:blah\"", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/unknown.xyz", "application/octet-stream")]
    [InlineData("/typed/unknown.xyz", "text/x-custom")]
    [InlineData("/index.html", "text/html")]
    [InlineData("/app.js", "text/javascript")]
    public async Task ContentType_FromTheFrameworkMapOrTheDefault(string path, string type)
    {
        var response = await _client.GetAsync(Uri(path), HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task LargeFile_StreamsEveryByte()
    {
        var bytes = await _client.GetByteArrayAsync(Uri("/large.bin"));

        Assert.Equal(StaticSite.Sha256(fixture.Site.Large), StaticSite.Sha256(bytes));
    }

    [Fact]
    public async Task Alias_ReplacesThePrefix()
    {
        Assert.Equal("public readme", await _client.GetStringAsync(Uri("/files/readme.txt")));
        Assert.Equal("a", await _client.GetStringAsync(Uri("/auto/a.txt")));
    }

    internal static Uri Uri(string path) => new(path, UriKind.Relative);

    internal static MediaTypeHeaderValue Type(string type) => new(type);
}
