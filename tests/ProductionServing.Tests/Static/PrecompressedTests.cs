using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>Precompressed sidecars (nginx gzip_static / brotli_static), negotiated on Accept-Encoding.</summary>
public sealed class PrecompressedTests(StaticHostFixture fixture) : IClassFixture<StaticHostFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData("gzip, deflate, br", "br", "BROTLI-BYTES")]
    [InlineData("br", "br", "BROTLI-BYTES")]
    [InlineData("gzip", "gzip", "GZIP-BYTES")]
    [InlineData("br;q=0, gzip", "gzip", "GZIP-BYTES")]
    [InlineData("br;q=0.5, gzip;q=0.8", "gzip", "GZIP-BYTES")]
    [InlineData("*", "br", "BROTLI-BYTES")]
    [InlineData("identity", null, "console.log('identity');")]
    [InlineData("gzip;q=0, br;q=0", null, "console.log('identity');")]
    [InlineData("", null, "console.log('identity');")]
    public async Task AcceptEncoding_SelectsTheSidecar(string acceptEncoding, string? encoding, string body)
    {
        var response = await Get("/app.js", acceptEncoding);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(encoding is null ? [] : [encoding], response.Content.Headers.ContentEncoding);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["Accept-Encoding"], response.Headers.Vary);
    }

    [Fact]
    public async Task EachEncoding_HasItsOwnETag()
    {
        var identity = (await Get("/app.js", "")).Headers.ETag!.Tag;
        var gzip = (await Get("/app.js", "gzip")).Headers.ETag!.Tag;
        var brotli = (await Get("/app.js", "br")).Headers.ETag!.Tag;

        Assert.Equal(3, new[] { identity, gzip, brotli }.Distinct().Count());
    }

    [Fact]
    public async Task OnlyGzipSidecar_IsUsedForBrotliClientsThatAlsoTakeGzip()
    {
        var response = await Get("/gzonly.css", "br, gzip");

        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Equal("GZ-CSS", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/css", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task RangesApplyToTheEncodedBytes()
    {
        var response = await fixture.GetAsync("/app.js", ("Accept-Encoding", "br"), ("Range", "bytes=0-5"));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("BROTLI", await response.Content.ReadAsStringAsync());
        Assert.Equal("bytes 0-5/12", response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task SeveralRangesOfAnEncodedVariant_GetTheWholeVariant()
    {
        var response = await fixture.GetAsync("/app.js", ("Accept-Encoding", "br"), ("Range", "bytes=0-1,4-5"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["br"], response.Content.Headers.ContentEncoding);
        Assert.Equal("BROTLI-BYTES", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PrecompressedOff_AlwaysSendsTheFile()
    {
        var response = await Get("/typed/app.js", "br, gzip");

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal("console.log('identity');", await response.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> Get(string path, string acceptEncoding) =>
        acceptEncoding.Length == 0 ? fixture.GetAsync(path) : fixture.GetAsync(path, ("Accept-Encoding", acceptEncoding));
}
