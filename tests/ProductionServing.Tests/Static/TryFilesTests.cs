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
    [InlineData("/try/docs", "<h1>docs</h1>")]                    // $uri/ without the slash: the folder (nginx serves it, no redirect)
    [InlineData("/spa/guide.html", "<h1>guide</h1>")]
    [InlineData("/spa/some/client/route", "<h1>docs</h1>")]      // fallback path: the single-page app's index
    [InlineData("/fallback/missing", "hello world")]              // fallback into an internal location
    [InlineData("/pretty/guide", "<h1>guide</h1>")]               // a literal candidate: $uri.html
    [InlineData("/pretty/other", "<h1>docs</h1>")]                // a literal candidate path: /pretty/index.html
    public async Task Candidates_AndFallbacks(string path, string body)
    {
        var response = await _client.GetAsync(StaticFileTests.Uri(path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
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
