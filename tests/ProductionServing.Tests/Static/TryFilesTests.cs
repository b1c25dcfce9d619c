using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>nginx <c>try_files</c>: candidates in order, then =CODE, @app or an internal redirect.</summary>
public sealed class TryFilesTests(StaticHostFixture fixture) : IClassFixture<StaticHostFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData("/try/hello.txt", "hello world")]                 // $uri: the file
    [InlineData("/try/docs/", "<h1>docs</h1>")]                   // $uri/: the folder's index
    [InlineData("/spa/guide.html", "<h1>guide</h1>")]
    [InlineData("/spa/some/client/route", "<h1>docs</h1>")]      // fallback path: the single-page app's index
    [InlineData("/fallback/missing", "hello world")]              // fallback into an internal location
    [InlineData("/pretty/guide", "<h1>guide</h1>")]               // a literal candidate: $uri.html
    // nginx-tests http_try_files.t: "file matches file"; "alias with nested prefix location" (a path outside
    // the prefix is relative to the alias folder); "alias with static string" (the prefix is removed).
    [InlineData("/ff/anything", "hello world")]
    [InlineData("/ap/anything", "hello world")]
    [InlineData("/pretty/other", "<h1>docs</h1>")]                // a literal candidate path: /pretty/index.html
    public async Task Candidates_AndFallbacks(string path, string body)
    {
        var response = await _client.GetAsync(StaticFileTests.Uri(path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    // nginx-tests http_try_files.t "dir matches dir": a folder candidate found, served under its path
    // without the slash, so a request without the slash is redirected to it.
    [InlineData("/try/docs", "/try/docs/")]
    [InlineData("/dd/", "/docs/")]
    public async Task FolderCandidate_WithoutTrailingSlash_Redirects301(string path, string location)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _client.BaseAddress };

        var response = await client.GetAsync(StaticFileTests.Uri(path));

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(location, response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task FileCandidateEndingInSlash_DoesNotMatchAFile()
    {
        // nginx-tests http_try_files.t "file does not match dir".
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(StaticFileTests.Uri("/fd/x"))).StatusCode);
    }

    [Fact]
    public async Task AppFallback_HandsTheRequestToTheApp()
    {
        var response = await _client.GetAsync(StaticFileTests.Uri("/try/not/a/file?q=1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith("|/try/not/a/file", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodeFallback_AnswersThatStatus()
    {
        Assert.Equal(HttpStatusCode.Gone, (await _client.GetAsync(StaticFileTests.Uri("/code/missing"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(StaticFileTests.Uri("/code/hello.txt"))).StatusCode);
    }

    [Fact]
    public async Task RedirectLoop_Gets500()
    {
        Assert.Equal(HttpStatusCode.InternalServerError, (await _client.GetAsync(StaticFileTests.Uri("/loop/missing"))).StatusCode);
    }
}
