using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>Validators and preconditions, RFC 9110 §13.2.2 order, over HTTP.</summary>
public sealed class ConditionalRequestTests(StaticHostFixture fixture) : IClassFixture<StaticHostFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task IfNoneMatch_CurrentTag_Gets304WithValidatorsAndNoBody()
    {
        var etag = await ETag("/hello.txt");

        var response = await fixture.GetAsync("/hello.txt", ("If-None-Match", etag));

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal(etag, response.Headers.ETag?.ToString());
        Assert.Equal("public, max-age=60", response.Headers.CacheControl?.ToString());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("*", HttpStatusCode.NotModified)]
    [InlineData("\"other\", {0}", HttpStatusCode.NotModified)]
    [InlineData("W/{0}", HttpStatusCode.NotModified)] // If-None-Match uses the weak comparison (RFC 9110 §13.1.2).
    [InlineData("\"other\"", HttpStatusCode.OK)]
    public async Task IfNoneMatch_Lists(string header, HttpStatusCode expected)
    {
        var etag = await ETag("/hello.txt");

        var response = await fixture.GetAsync("/hello.txt", ("If-None-Match", string.Format(System.Globalization.CultureInfo.InvariantCulture, header, etag)));

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task IfModifiedSince_NotModified_Gets304_Modified_Gets200()
    {
        var lastModified = File.GetLastWriteTimeUtc(fixture.Site.Path_("hello.txt"));

        Assert.Equal(HttpStatusCode.NotModified, (await fixture.GetAsync("/hello.txt", ("If-Modified-Since", lastModified.ToString("R")))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.GetAsync("/hello.txt", ("If-Modified-Since", lastModified.AddDays(-1).ToString("R")))).StatusCode);
    }

    [Fact]
    public async Task IfNoneMatch_TakesPrecedenceOverIfModifiedSince()
    {
        // RFC 9110 §13.1.3: a recipient MUST ignore If-Modified-Since if the request contains If-None-Match.
        var response = await fixture.GetAsync("/hello.txt", ("If-None-Match", "\"other\""), ("If-Modified-Since", DateTime.UtcNow.AddDays(1).ToString("R")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("\"other\"", HttpStatusCode.PreconditionFailed)]
    [InlineData("W/{0}", HttpStatusCode.PreconditionFailed)] // If-Match uses the strong comparison.
    [InlineData("{0}", HttpStatusCode.OK)]
    [InlineData("*", HttpStatusCode.OK)]
    public async Task IfMatch_UsesStrongComparison(string header, HttpStatusCode expected)
    {
        var etag = await ETag("/hello.txt");

        var response = await fixture.GetAsync("/hello.txt", ("If-Match", string.Format(System.Globalization.CultureInfo.InvariantCulture, header, etag)));

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task IfUnmodifiedSince_Past_Gets412_AndIfMatchTakesPrecedence()
    {
        var past = DateTime.UtcNow.AddYears(-10).ToString("R");
        var etag = await ETag("/hello.txt");

        Assert.Equal(HttpStatusCode.PreconditionFailed, (await fixture.GetAsync("/hello.txt", ("If-Unmodified-Since", past))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.GetAsync("/hello.txt", ("If-Match", etag), ("If-Unmodified-Since", past))).StatusCode);
    }

    [Fact]
    public async Task IfMatchFailure_TakesPrecedenceOverIfNoneMatch()
    {
        var etag = await ETag("/hello.txt");

        Assert.Equal(HttpStatusCode.PreconditionFailed, (await fixture.GetAsync("/hello.txt", ("If-Match", "\"other\""), ("If-None-Match", etag))).StatusCode);
    }

    private async Task<string> ETag(string path) => (await _client.GetAsync(StaticFileTests.Uri(path))).Headers.ETag!.ToString();
}
