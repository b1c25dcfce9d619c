using System.IO.Compression;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Directives.Compression;
using static ProductionServing.Tests.Proxy.ProxyTestHelpers;

namespace ProductionServing.Tests.Directives;

/// <summary>
/// <c>Compress</c> on responses that flow (App and Proxy locations): compressed as they are written, each
/// flush reaching the client (server-sent events one by one, nginx-tests gzip_flush.t), and left alone in
/// the cases docs/directives.md ("Compress, in detail") and ASP.NET Core's ResponseCompression tests list.
/// </summary>
public sealed class CompressStreamingTests
{
    private static readonly string Page = Text(3000, "page");

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task App_TextResponse_IsCompressed_WithVaryAndNoLengthOrRanges(string coding)
    {
        await using var host = await StartAppAsync(context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.ContentLength = Encoding.UTF8.GetByteCount(Page);
            context.Response.Headers.AcceptRanges = "bytes";
            return context.Response.WriteAsync(Page);
        });

        using var response = await SendAsync(host.Client, "/app/page", coding);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([coding], response.Content.Headers.ContentEncoding);
        Assert.Equal(["Accept-Encoding"], response.Headers.Vary);
        Assert.Empty(response.Headers.AcceptRanges);
        Assert.Equal(Page, Encoding.UTF8.GetString(await DecodeAsync(response)));
        Assert.True(response.Content.Headers.ContentLength is null || response.Content.Headers.ContentLength < Page.Length / 2);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    [InlineData(null)]
    public async Task App_JsonWrittenBySystemTextJson_IsServed_CompressedOrNot(string? coding)
    {
        // System.Text.Json serializes into Response.BodyWriter and refuses a writer that cannot count its
        // unflushed bytes, so the compressing writer must count them whether it compresses or not.
        var items = Enumerable.Range(0, 100).Select(static i => new { id = i, title = "item " + i }).ToArray();
        await using var host = await StartAppAsync(context => context.Response.WriteAsJsonAsync(items));

        using var response = await SendAsync(host.Client, "/app/items", coding);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string[] encodings = coding is null ? [] : [coding];
        Assert.Equal(encodings, response.Content.Headers.ContentEncoding);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(items, System.Text.Json.JsonSerializerOptions.Web), Encoding.UTF8.GetString(await DecodeAsync(response)));
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task App_ServerSentEvents_EachEventArrivesBeforeTheAppWritesTheNext(string coding)
    {
        var second = Signal();
        await using var host = await StartAppAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: one\n\n");
            await context.Response.Body.FlushAsync();
            await second.Task.WaitAsync(TestTimeouts.Wait);
            await context.Response.WriteAsync("data: two\n\n");
        });

        using var response = await SendAsync(host.Client, "/app/events", coding, completion: HttpCompletionOption.ResponseHeadersRead);
        await using var events = Decoding(await response.Content.ReadAsStreamAsync(), coding);
        var first = await ReadUntilAsync(events, "data: one\n\n");
        second.SetResult();
        var rest = await ReadToEndAsync(events);

        Assert.Equal([coding], response.Content.Headers.ContentEncoding);
        Assert.Equal("data: one\n\n", first);
        Assert.Equal("data: two\n\n", rest);
    }

    [Fact]
    public async Task App_EmptyAndRepeatedFlushes_AreHarmless()
    {
        // nginx-tests gzip_flush.t: the gzip filter once failed on empty flush buffers.
        await using var host = await StartAppAsync(async context =>
        {
            context.Response.ContentType = "text/html";
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync("DA");
            await context.Response.Body.FlushAsync();
            await context.Response.BodyWriter.FlushAsync();
            await context.Response.WriteAsync("TA");
        });

        using var response = await SendAsync(host.Client, "/app/x", "gzip");

        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Equal("DATA", Encoding.UTF8.GetString(await DecodeAsync(response)));
    }

    [Theory]
    [InlineData("encoded")]
    [InlineData("no-transform")]
    [InlineData("range")]
    [InlineData("204")]
    [InlineData("304")]
    [InlineData("short")]
    [InlineData("image")]
    [InlineData("untyped")]
    public async Task App_ResponsesThatAreNeverCompressed_PassUnchanged(string kind)
    {
        var body = Encoding.UTF8.GetBytes(Page);
        await using var host = await StartAppAsync(context =>
        {
            var response = context.Response;
            response.ContentType = "text/plain";
            switch (kind)
            {
                case "encoded":
                    response.Headers.ContentEncoding = "deflate";
                    break;
                case "no-transform":
                    response.Headers.CacheControl = "public, No-Transform";
                    break;
                case "range":
                    response.StatusCode = StatusCodes.Status206PartialContent;
                    response.Headers.ContentRange = $"bytes 0-{body.Length - 1}/{body.Length * 2}";
                    break;
                case "204":
                    response.StatusCode = StatusCodes.Status204NoContent;
                    return Task.CompletedTask;
                case "304":
                    response.StatusCode = StatusCodes.Status304NotModified;
                    response.Headers.ETag = "\"v1\"";
                    return Task.CompletedTask;
                case "short":
                    body = Encoding.UTF8.GetBytes(Page[..255]);
                    response.ContentLength = body.Length;
                    break;
                case "image":
                    response.ContentType = "image/png";
                    break;
                case "untyped":
                    response.ContentType = null;
                    break;
            }

            return response.Body.WriteAsync(body).AsTask();
        });

        using var answer = await SendAsync(host.Client, "/app/x", "br, gzip");

        Assert.Equal(kind == "encoded" ? ["deflate"] : [], answer.Content.Headers.ContentEncoding);
        Assert.Empty(answer.Headers.Vary);
        var expected = kind is "204" or "304" ? [] : body;
        Assert.Equal(expected, await answer.Content.ReadAsByteArrayAsync());
        if (kind == "304")
        {
            Assert.Equal("\"v1\"", answer.Headers.ETag?.ToString());
        }
    }

    [Fact]
    public async Task App_LengthUnknown_IsCompressedWhateverItsSize()
    {
        // nginx's gzip_min_length looks at Content-Length only: a body without one is compressed.
        await using var host = await StartAppAsync(context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("{\"ok\":true}");
        });

        using var response = await SendAsync(host.Client, "/app/x", "br");

        Assert.Equal(["br"], response.Content.Headers.ContentEncoding);
        Assert.Equal("{\"ok\":true}", Encoding.UTF8.GetString(await DecodeAsync(response)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("identity")]
    [InlineData("br;q=0, gzip;q=0")]
    [InlineData("deflate")]
    public async Task App_ClientTakingNoCoding_GetsIdentityWithVary(string? acceptEncoding)
    {
        await using var host = await StartAppAsync(context =>
        {
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = Page.Length;
            return context.Response.WriteAsync(Page);
        });

        using var response = await SendAsync(host.Client, "/app/x", acceptEncoding);

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(["Accept-Encoding"], response.Headers.Vary);
        Assert.Equal(Page.Length, response.Content.Headers.ContentLength);
        Assert.Equal(Page, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task App_VaryAlreadyListed_IsNotRepeated_AndOtherVaryKept()
    {
        await using var host = await StartAppAsync(context =>
        {
            context.Response.ContentType = "text/plain";
            context.Response.Headers.Vary = "Cookie";
            return context.Response.WriteAsync(Page);
        });

        using var response = await SendAsync(host.Client, "/app/x", "br");

        Assert.Equal(["Cookie", "Accept-Encoding"], response.Headers.Vary);
    }

    [Theory]
    [InlineData("\"v1\"", "br", "W/\"v1\"")]
    [InlineData("W/\"v1\"", "gzip", "W/\"v1\"")]
    [InlineData("v1", "gzip", null)]
    public async Task App_ETag_BecomesWeak_AsNginxsGzipMakesIt_SoTheClientsIfNoneMatchStillMatchesIt(string etag, string coding, string? expected)
    {
        await using var host = await StartAppAsync(context =>
        {
            context.Response.ContentType = "text/plain";
            context.Response.Headers.ETag = etag;
            return context.Response.WriteAsync(Page);
        });

        using var response = await SendAsync(host.Client, "/app/x", coding);

        Assert.Equal(expected, response.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task App_Head_GetsTheHeadersItsGetWouldGet()
    {
        await using var host = await StartAppAsync(context =>
        {
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = Page.Length;
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(Page);
        });

        using var head = await SendAsync(host.Client, "/app/x", "br", HttpMethod.Head);

        Assert.Equal(["br"], head.Content.Headers.ContentEncoding);
        Assert.Equal(["Accept-Encoding"], head.Headers.Vary);
        Assert.Null(head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task App_ErrorAfterCompressionStarted_AbortsTheResponse()
    {
        await using var host = await StartAppAsync(async context =>
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(Page);
            await context.Response.Body.FlushAsync();
            throw new InvalidOperationException("the app failed half way");
        });

        await Assert.ThrowsAnyAsync<HttpRequestException>(async () =>
        {
            using var response = await SendAsync(host.Client, "/app/x", "br");
            await DecodeAsync(response);
        });
    }

    [Fact]
    public async Task App_ReloadThatTurnsCompressOff_StopsCompressing()
    {
        await using var host = await StartAppAsync(context =>
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync(Page);
        });
        using (var before = await SendAsync(host.Client, "/app/x", "br"))
        {
            Assert.Equal(["br"], before.Content.Headers.ContentEncoding);
        }

        host.Reload(("ProductionServing:Locations:0:Compress", "false"));

        await Poll.UntilAsync(async () =>
        {
            using var response = await SendAsync(host.Client, "/app/x", "br");
            return response.Content.Headers.ContentEncoding.Count == 0 && await response.Content.ReadAsStringAsync() == Page;
        }, "the reloaded location answers uncompressed");
    }

    [Fact]
    public async Task App_LocationWithoutCompress_IsNeverCompressed()
    {
        await using var host = await StartAppAsync(context =>
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync(Page);
        });

        using var response = await SendAsync(host.Client, "/other/x", "br");

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Empty(response.Headers.Vary);
    }

    [Fact]
    public async Task Proxy_ResponseIsCompressedAsItFlows_EachPieceBeforeTheUpstreamSendsTheNext()
    {
        var second = Signal();
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers.AcceptRanges = "bytes";
            await context.Response.WriteAsync("[\"first\",");
            await second.Task.WaitAsync(TestTimeouts.Wait);
            await context.Response.WriteAsync("\"second\"]");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/", "Proxy": { "Pass": "{{upstream.Address}}" }, "Compress": true }"""));

        using var response = await SendAsync(host.Client, "/api", "gzip", completion: HttpCompletionOption.ResponseHeadersRead);
        await using var body = Decoding(await response.Content.ReadAsStreamAsync(), "gzip");
        var first = await ReadUntilAsync(body, "[\"first\",");
        second.SetResult();
        var rest = await ReadToEndAsync(body);

        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Equal(["Accept-Encoding"], response.Headers.Vary);
        Assert.Empty(response.Headers.AcceptRanges);
        Assert.Equal("[\"first\",", first);
        Assert.Equal("\"second\"]", rest);
    }

    [Fact]
    public async Task Proxy_UpstreamThatCompressedItself_IsPassedUnchanged()
    {
        var encoded = GzipOf(Page);
        await using var upstream = await UpstreamHost.StartAsync(context =>
        {
            context.Response.ContentType = "text/plain";
            context.Response.Headers.ContentEncoding = "gzip";
            context.Response.ContentLength = encoded.Length;
            return context.Response.Body.WriteAsync(encoded).AsTask();
        });
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/", "Proxy": { "Pass": "{{upstream.Address}}" }, "Compress": true }"""));

        using var response = await SendAsync(host.Client, "/api", "br, gzip");

        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Equal(encoded.Length, response.Content.Headers.ContentLength);
        Assert.Equal(encoded, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Proxy_LibrarysOwnErrorPage_IsAnsweredWhole()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "/", "Proxy": { "Pass": "http://127.0.0.1:1" }, "Compress": true }"""));

        using var response = await SendAsync(host.Client, "/api", "br");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal("502 Bad Gateway\n", await response.Content.ReadAsStringAsync());
    }

    private static byte[] GzipOf(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    /// <summary>A host whose <c>/app/</c> location (Compress on) and <c>/other/</c> location (off) run <paramref name="app"/>.</summary>
    private static Task<ServingHost> StartAppAsync(RequestDelegate app) =>
        ServingHost.StartAsync(ServingJson.Config("""{ "Match": "/app/", "App": {}, "Compress": true }, { "Match": "/other/", "App": {} }"""),
            afterServing: builder => builder.Run(app));
}
