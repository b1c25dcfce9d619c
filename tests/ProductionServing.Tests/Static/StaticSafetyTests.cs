using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>
/// No request, however encoded, reads a file outside the root; hidden files stay hidden. Each case
/// plants <see cref="StaticSite.Secret"/> beside the root and checks it never appears.
/// </summary>
public sealed class StaticSafetyTests(StaticHostFixture fixture) : IClassFixture<StaticHostFixture>
{
    [Theory]
    [InlineData("GET /../secret.txt HTTP/1.1")]
    [InlineData("GET /%2e%2e/secret.txt HTTP/1.1")]
    [InlineData("GET /%2E%2E%2Fsecret.txt HTTP/1.1")]
    [InlineData("GET /..%2fsecret.txt HTTP/1.1")]
    [InlineData("GET /docs/..%2F..%2Fsecret.txt HTTP/1.1")]
    [InlineData("GET /%252e%252e/secret.txt HTTP/1.1")]
    [InlineData("GET /%252e%252e%252fsecret.txt HTTP/1.1")]
    [InlineData("GET /..%5csecret.txt HTTP/1.1")]
    [InlineData("GET /..\\secret.txt HTTP/1.1")]
    [InlineData("GET /%c0%ae%c0%ae/secret.txt HTTP/1.1")]
    [InlineData("GET /%c0%af../secret.txt HTTP/1.1")]
    [InlineData("GET /%e0%80%ae%e0%80%ae/secret.txt HTTP/1.1")]
    [InlineData("GET /secret.txt%00.html HTTP/1.1")]
    [InlineData("GET /hello.txt%00/../../secret.txt HTTP/1.1")]
    [InlineData("GET http://localhost/../secret.txt HTTP/1.1")]
    [InlineData("GET http://localhost/%2e%2e/secret.txt HTTP/1.1")]
    [InlineData("GET //../secret.txt HTTP/1.1")]
    [InlineData("GET /./../secret.txt HTTP/1.1")]
    // Symbolic links whose target lies outside the root.
    [InlineData("GET /link-out.txt HTTP/1.1")]
    [InlineData("GET /dir-out/secret.txt HTTP/1.1")]
    [InlineData("GET /dir-out/ HTTP/1.1")]
    // The classic nginx alias mistake: location "/files" (no slash) with alias ".../pub/": "/files../x" is "pub/../x".
    [InlineData("GET /files../secret.txt HTTP/1.1")]
    [InlineData("GET /files%2e%2e/secret.txt HTTP/1.1")]
    [InlineData("GET /files../site/hello.txt HTTP/1.1")]
    // The same mistake with hidden files allowed, so only the root check stands in the way.
    [InlineData("GET /pubfiles../secret.txt HTTP/1.1")]
    [InlineData("GET /pubfiles%2e%2e/secret.txt HTTP/1.1")]
    // A link whose target climbs from another link: "x/../secret.txt" with x pointing outside.
    [InlineData("GET /evil.txt HTTP/1.1")]
    [InlineData("GET /x/../secret.txt HTTP/1.1")]
    // Internal locations are not for clients, even when they could serve the secret's folder.
    [InlineData("GET /protected/hello.txt HTTP/1.1")]
    public async Task Traversal_NeverReadsOutsideTheRoot(string requestLine)
    {
        var response = await fixture.Host.SendRawAsync(requestLine);

        Assert.True(response.StatusCode is 400 or 404, $"{requestLine} → {response.StatusCode}");
        Assert.DoesNotContain(StaticSite.Secret, response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("hello world", response.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/.env")]
    [InlineData("/.git/config")]
    [InlineData("/.hidden/data/x.json")]
    [InlineData("/list/.hidden")]
    [InlineData("/.git/")]
    [InlineData("/.git")]
    public async Task HiddenFilesAndFolders_Get404(string path)
    {
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Client.GetAsync(StaticFileTests.Uri(path))).StatusCode);
    }

    [Theory]
    [InlineData("/hidden-ok/.env", "SECRET=1")]
    [InlineData("/hidden-ok/.hidden/data/x.json", "{}")]
    public async Task HiddenFiles_AreServedWhenAllowed(string path, string body)
    {
        Assert.Equal(body, await fixture.Client.GetStringAsync(StaticFileTests.Uri(path)));
    }

    [Fact]
    public async Task SidecarLinkingOutOfTheRoot_IsNotServed()
    {
        var response = await fixture.GetAsync("/sidecar.txt", ("Accept-Encoding", "gzip"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal("plain sidecar", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SymbolicLinkInsideTheRoot_IsFollowed()
    {
        Assert.Equal("hello world", await fixture.Client.GetStringAsync(StaticFileTests.Uri("/link-in.txt")));
    }
}
