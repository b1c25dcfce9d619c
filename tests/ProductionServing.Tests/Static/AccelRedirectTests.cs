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
    public async Task HandoffFromADedicatedWorker_SendsTheFileAfterTheWorkerIsDone()
    {
        var response = await _client.GetAsync(StaticFileTests.Uri("/download-on-worker?token=let-me-in&file=large.bin"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(StaticSite.Sha256(fixture.Site.Large), StaticSite.Sha256(await response.Content.ReadAsByteArrayAsync()));
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
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

        var partial = await fixture.GetAsync("/download?token=let-me-in&file=data.bin", ("Range", "bytes=10-19"));
        var notModified = await fixture.GetAsync("/download?token=let-me-in&file=data.bin", ("If-None-Match", etag));

        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(fixture.Site.Small.AsSpan(10, 10).ToArray(), await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task MissingFile_Gets404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(StaticFileTests.Uri("/download?token=let-me-in&file=nope.bin"))).StatusCode);
    }

    [Theory]
    [InlineData("..%2Fsecret.txt")]        // the app checked the name for "..", but sends it encoded
    [InlineData("%252e%252e%252fsecret.txt")]
    [InlineData("docs%2F..%2F..%2Fsecret.txt")]
    [InlineData("./hello.txt")]
    public async Task HandoffWithDotSegments_Gets404_AsNginxRefusesAnUnsafeUri(string file)
    {
        var response = await _client.GetAsync(StaticFileTests.Uri("/download?token=let-me-in&file=" + file));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("APP BODY", body, StringComparison.Ordinal);
        Assert.DoesNotContain(StaticSite.Secret, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppResponsesWithoutHandoff_PassThrough_JsonIncluded()
    {
        var response = await _client.GetAsync(StaticFileTests.Uri("/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"ok\":true,\"items\":[1,2,3]}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AppResponsesWithoutHandoff_PassThrough_SendFileIncluded()
    {
        Assert.Equal("hello world", await _client.GetStringAsync(StaticFileTests.Uri("/sendfile")));
    }

    [Fact]
    public async Task HandoffLoopThroughTheApp_Gets500()
    {
        var response = await _client.GetAsync(StaticFileTests.Uri("/loopback"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains(fixture.Host.Logs.GetSnapshot(), r => r.Id.Id == 2003);
    }

    [Fact]
    public async Task AppCacheControl_IsKept()
    {
        var response = await _client.GetAsync(StaticFileTests.Uri("/download?token=let-me-in&file=hello.txt&private=1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cacheControl = response.Headers.CacheControl!;
        Assert.True(cacheControl.Private && cacheControl.NoStore, cacheControl.ToString());
        Assert.False(cacheControl.Public);
        Assert.Null(cacheControl.MaxAge);
        Assert.Equal("hello world", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Head_ThroughTheHandoff_SendsHeadersOnly()
    {
        var response = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, StaticFileTests.Uri("/download?token=let-me-in&file=data.bin")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1024, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }
}
