using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Directives.Compression;

namespace ProductionServing.Tests.Directives;

/// <summary>
/// <c>Compress</c> on static locations (docs/directives.md, "Compress, in detail"): cached files compressed once, served by the client's
/// preference, with nginx's rules from nginx-tests gzip.t (HEAD, cleared Accept-Ranges) and gzip_static's
/// (a sidecar wins), and never for ranges, other types, short files or <c>no-transform</c>.
/// </summary>
public sealed class CompressStaticTests : IAsyncLifetime, IDisposable
{
    private readonly StaticSite _site = new();
    private readonly string _script = Text(8 * 1024, "script");
    private ServingHost _host = null!;

    public async Task InitializeAsync()
    {
        _site.Write("bundle.js", _script);
        _site.Write("style.css", Text(4096, "css"));
        _site.Write("short.txt", Text(255));
        _site.Write("edge.txt", Text(256));
        _site.Write("sidecar.js", _script);
        _site.Write("sidecar.js.br", "BROTLI-SIDECAR");
        _site.Write("big.txt", Text(100 * 1024, "big"));
        var root = ServingJson.Escape(_site.Root);
        _host = await ServingHost.StartAsync(ServingJson.Config($$"""
            { "Match": "/", "Static": { "Root": "{{root}}" }, "Compress": true },
            { "Match": "/nt/", "Static": { "Alias": "{{root}}/", "CacheControl": "public, no-transform" }, "Compress": true },
            { "Match": "/nt-headers/", "Static": { "Alias": "{{root}}/" }, "Headers": { "Cache-Control": "no-transform" }, "Compress": true },
            { "Match": "/nt-app/", "App": {}, "Headers": { "Cache-Control": "public, no-transform" }, "Compress": true },
            { "Match": "/css-only/", "Static": { "Alias": "{{root}}/" }, "Compress": { "Types": [ "TEXT/CSS" ], "MinLength": 0 } },
            { "Match": "/plain/", "Static": { "Alias": "{{root}}/" } },
            { "Match": "/internal-c/", "Internal": true, "Static": { "Alias": "{{root}}/" }, "Compress": true },
            { "Match": "/internal-p/", "Internal": true, "Static": { "Alias": "{{root}}/" } },
            { "Match": "/spa/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "@app" ] }, "Compress": true },
            { "Match": "= /dl", "App": {} },
            { "Match": "= /dl-compressed", "App": {}, "Compress": true }
            """), afterServing: app => app.Use(App));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _site.Dispose();

    [Theory]
    [InlineData("gzip, deflate, br", "br")]
    [InlineData("br", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("x-gzip", "gzip")]
    [InlineData("gzip;q=0.8, br;q=0.8", "br")]
    [InlineData("br;q=0.5, gzip", "gzip")]
    [InlineData("br;q=0, gzip", "gzip")]
    [InlineData("*", "br")]
    [InlineData("deflate, *;q=0.1", "br")]
    [InlineData("gzip;q=0, br;q=0", null)]
    [InlineData("*;q=0", null)]
    [InlineData("identity", null)]
    [InlineData("identity, br;q=0.5", null)]
    [InlineData("deflate, zstd", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public async Task AcceptEncoding_ChoosesTheCoding_AndTheBytesDecodeToTheFile(string? acceptEncoding, string? expected)
    {
        using var response = await SendAsync(_host.Client, "/bundle.js", acceptEncoding);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected is null ? [] : [expected], response.Content.Headers.ContentEncoding);
        Assert.Equal(["Accept-Encoding"], response.Headers.Vary);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(_script, Encoding.UTF8.GetString(await DecodeAsync(response)));
        if (expected is not null)
        {
            Assert.True(response.Content.Headers.ContentLength < _script.Length / 4, $"{response.Content.Headers.ContentLength} bytes");
            Assert.Empty(response.Headers.AcceptRanges);
        }
        else
        {
            Assert.Equal(_script.Length, response.Content.Headers.ContentLength);
            Assert.Equal(["bytes"], response.Headers.AcceptRanges);
        }
    }

    [Fact]
    public async Task EachCoding_HasItsOwnStrongETag_StableAcrossRequests()
    {
        var identity = await ETagAsync(null);
        var brotli = await ETagAsync("br");
        var gzip = await ETagAsync("gzip");

        Assert.Equal(3, new[] { identity.Tag, brotli.Tag, gzip.Tag }.Distinct().Count());
        Assert.False(brotli.IsWeak);
        Assert.Equal(brotli, await ETagAsync("br"));

        async Task<System.Net.Http.Headers.EntityTagHeaderValue> ETagAsync(string? coding)
        {
            using var response = await SendAsync(_host.Client, "/bundle.js", coding);
            return response.Headers.ETag!;
        }
    }

    [Fact]
    public async Task IfNoneMatch_WithTheCompressedETag_Is304WithItsHeadersAndNoBody()
    {
        using var first = await SendAsync(_host.Client, "/bundle.js", "br");
        var etag = first.Headers.ETag!.Tag;

        using var again = await SendAsync(_host.Client, "/bundle.js", "br", headers: ("If-None-Match", etag));
        using var otherCoding = await SendAsync(_host.Client, "/bundle.js", "gzip", headers: ("If-None-Match", etag));

        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Equal(etag, again.Headers.ETag?.Tag);
        Assert.Equal(["Accept-Encoding"], again.Headers.Vary);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, otherCoding.StatusCode);
        Assert.Equal(["gzip"], otherCoding.Content.Headers.ContentEncoding);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    [InlineData(null)]
    public async Task Head_GetsTheHeadersOfItsGet_WithoutTheBody(string? coding)
    {
        using var get = await SendAsync(_host.Client, "/bundle.js", coding);
        using var head = await SendAsync(_host.Client, "/bundle.js", coding, HttpMethod.Head);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(get.Content.Headers.ContentEncoding, head.Content.Headers.ContentEncoding);
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(get.Headers.Vary, head.Headers.Vary);
    }

    [Fact]
    public async Task Range_GetsIdentityBytes_NeverACompressedRange()
    {
        using var response = await SendAsync(_host.Client, "/bundle.js", "br, gzip", headers: ("Range", "bytes=10-19"));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(_script.Substring(10, 10), await response.Content.ReadAsStringAsync());
        Assert.Equal($"bytes 10-19/{_script.Length}", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(["Accept-Encoding"], response.Headers.Vary);
    }

    [Fact]
    public async Task IfRange_WithTheCompressedETag_GetsTheWholeFileUncompressed()
    {
        using var first = await SendAsync(_host.Client, "/bundle.js", "br");

        using var response = await SendAsync(_host.Client, "/bundle.js", "br", headers: [("Range", "bytes=0-9"), ("If-Range", first.Headers.ETag!.Tag)]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(_script, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/bundle.js", "br")]
    [InlineData("/style.css", "br")]
    [InlineData("/edge.txt", "br")]
    [InlineData("/short.txt", null)]
    [InlineData("/big.txt", null)]
    [InlineData("/nt/bundle.js", null)]
    [InlineData("/nt-headers/bundle.js", null)]
    [InlineData("/plain/bundle.js", null)]
    [InlineData("/css-only/bundle.js", null)]
    [InlineData("/css-only/style.css", "br")]
    public async Task WhatIsCompressed_TypesMinLengthCacheSizeAndNoTransform(string path, string? expected)
    {
        using var response = await SendAsync(_host.Client, path, "br");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected is null ? [] : [expected], response.Content.Headers.ContentEncoding);
        Assert.Equal(File.ReadAllBytes(_site.Path_(Path.GetFileName(path))), await DecodeAsync(response));
    }

    [Fact]
    public async Task NoTransformFromTheLocationsHeaders_KeepsTheAppsResponseUncompressed()
    {
        // Headers are set as the response starts, after Compress decided; nginx's add_header runs before its gzip
        // filter, which then honours no-transform (RFC 9111 §5.2.2.6). So a location that gives every response
        // no-transform does not compress.
        using var response = await SendAsync(_host.Client, "/nt-app/page", "br");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.True(response.Headers.CacheControl is { Public: true, NoTransform: true });
        Assert.Equal(Text(2000, "app"), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task BinaryType_IsNotCompressed_AndDoesNotVary()
    {
        _site.RandomBytes("image.png", 4096, seed: 1);

        using var response = await SendAsync(_host.Client, "/image.png", "br, gzip");

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Empty(response.Headers.Vary);
    }

    [Fact]
    public async Task Sidecar_WinsForItsCoding_AndTheOtherCodingIsCompressedFromTheFile()
    {
        using var brotli = await SendAsync(_host.Client, "/sidecar.js", "br, gzip");
        using var gzip = await SendAsync(_host.Client, "/sidecar.js", "gzip");

        Assert.Equal(["br"], brotli.Content.Headers.ContentEncoding);
        Assert.Equal("BROTLI-SIDECAR", await brotli.Content.ReadAsStringAsync());
        Assert.Equal(["gzip"], gzip.Content.Headers.ContentEncoding);
        Assert.Equal(_script, Encoding.UTF8.GetString(await DecodeAsync(gzip)));
    }

    [Fact]
    public async Task ChangedFile_DropsItsCompressedCopy()
    {
        using (var before = await SendAsync(_host.Client, "/style.css", "br"))
        {
            Assert.Equal(["br"], before.Content.Headers.ContentEncoding);
        }

        var changed = Text(6000, "changed");
        _site.Write("style.css", changed);

        await Poll.UntilAsync(async () =>
        {
            using var response = await SendAsync(_host.Client, "/style.css", "br");
            return Encoding.UTF8.GetString(await DecodeAsync(response)) == changed;
        }, "the changed file is served, compressed anew");
        using var after = await SendAsync(_host.Client, "/style.css", "br");
        Assert.Equal(["br"], after.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task ReloadThatTurnsCompressOff_StopsCompressing()
    {
        using (var before = await SendAsync(_host.Client, "/bundle.js", "br"))
        {
            Assert.Equal(["br"], before.Content.Headers.ContentEncoding);
        }

        _host.Reload(("ProductionServing:Locations:0:Compress", "false"));

        await Poll.UntilAsync(async () =>
        {
            using var response = await SendAsync(_host.Client, "/bundle.js", "br");
            return response.Content.Headers.ContentEncoding.Count == 0 && await response.Content.ReadAsStringAsync() == _script;
        }, "the reloaded location sends the file uncompressed");
        using var after = await SendAsync(_host.Client, "/bundle.js", "br");
        Assert.Empty(after.Headers.Vary);
    }

    [Theory]
    [InlineData("/dl", "/internal-c/bundle.js", "br")]
    [InlineData("/dl", "/internal-p/bundle.js", null)]
    [InlineData("/dl-compressed", "/internal-p/bundle.js", null)]
    [InlineData("/dl-compressed", "/internal-c/bundle.js", "br")]
    public async Task AccelRedirect_TheStaticLocationDecides_AndCompressesOnce(string app, string target, string? expected)
    {
        using var response = await SendAsync(_host.Client, app + "?to=" + target, "br");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected is null ? [] : [expected], response.Content.Headers.ContentEncoding);
        Assert.Equal(_script, Encoding.UTF8.GetString(await DecodeAsync(response)));
    }

    [Fact]
    public async Task TryFilesAppFallback_IsCompressedByTheLocationsCompress()
    {
        using var file = await SendAsync(_host.Client, "/spa/bundle.js", "gzip");
        using var app = await SendAsync(_host.Client, "/spa/missing", "gzip");

        Assert.Equal(["gzip"], file.Content.Headers.ContentEncoding);
        Assert.Equal(["gzip"], app.Content.Headers.ContentEncoding);
        Assert.Equal(Text(2000, "app"), Encoding.UTF8.GetString(await DecodeAsync(app)));
    }

    /// <summary>The app: <c>/dl</c> hands off to <c>?to=</c>; anything else is a page of text.</summary>
    private static Task App(HttpContext context, Func<Task> next)
    {
        if (context.Request.Path.Value!.StartsWith("/dl", StringComparison.Ordinal))
        {
            context.Response.Headers["X-Accel-Redirect"] = context.Request.Query["to"].ToString();
            return context.Response.WriteAsync("the app's body, discarded");
        }

        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(Text(2000, "app"));
    }
}
