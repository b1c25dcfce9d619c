using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>
/// nginx's X-Accel-Redirect: the app authorizes, the static location sends the file, with full
/// conditional and range support; the header and the app's body never reach the client.
/// </summary>
public sealed class AccelRedirectTests(StaticHostFixture fixture) : IClassFixture<StaticHostFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task AuthorizedDownload_IsTheFile_WithTheAppsDispositionAndNoHandoffHeader()
    {
        var response = await _client.GetAsync(StaticFileTests.Uri("/download?token=let-me-in&file=data.bin"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(fixture.Site.Small, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment; filename=\"data.bin\"", response.Content.Headers.ContentDisposition?.ToString());
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        Assert.NotNull(response.Headers.ETag);
    }

    [Fact]
    public async Task LargeFile_IsStreamed()
    {
        var bytes = await _client.GetByteArrayAsync(StaticFileTests.Uri("/download?token=let-me-in&file=large.bin"));

        Assert.Equal(StaticSite.Sha256(fixture.Site.Large), StaticSite.Sha256(bytes));
    }

    [Fact]
    public async Task Unauthorized_GetsTheAppsAnswer()
    {
        var response = await _client.GetAsync(StaticFileTests.Uri("/download?file=data.bin"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("forbidden", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RangeAndConditional_WorkThroughTheHandoff()
    {
        var first = await _client.GetAsync(StaticFileTests.Uri("/download?token=let-me-in&file=data.bin"));
        var etag = first.Headers.ETag!.ToString();

        var range = new HttpRequestMessage(HttpMethod.Get, StaticFileTests.Uri("/download?token=let-me-in&file=data.bin"));
        range.Headers.TryAddWithoutValidation("Range", "bytes=10-19");
        var partial = await _client.SendAsync(range);
        var conditional = new HttpRequestMessage(HttpMethod.Get, StaticFileTests.Uri("/download?token=let-me-in&file=data.bin"));
        conditional.Headers.TryAddWithoutValidation("If-None-Match", etag);
        var notModified = await _client.SendAsync(conditional);

        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(fixture.Site.Small.AsSpan(10, 10).ToArray(), await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task MissingFile_Gets404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(StaticFileTests.Uri("/download?token=let-me-in&file=nope.bin"))).StatusCode);
    }

    [Fact]
    public async Task HandoffOutsideStaticLocations_Gets500()
    {
        // "/protected/../x" normalizes to "/x", served by "/" (static), so use a path no static location takes.
        var response = await _client.GetAsync(StaticFileTests.Uri("/download?token=let-me-in&file=..%2F..%2Fdownload"));

        Assert.True(response.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.NotFound, response.StatusCode.ToString());
        Assert.DoesNotContain("APP BODY", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
