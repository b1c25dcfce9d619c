using System.Net;
using System.Net.Http.Headers;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>Range requests (RFC 9110 §14) on a cached (1 KiB) and a streamed (300 KiB) file.</summary>
public sealed class RangeTests(StaticHostFixture fixture) : IClassFixture<StaticHostFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData("/data.bin", "bytes=0-9", 0, 10)]
    [InlineData("/data.bin", "bytes=1000-", 1000, 24)]
    [InlineData("/data.bin", "bytes=-100", 924, 100)]
    [InlineData("/data.bin", "bytes=1000-999999", 1000, 24)]
    [InlineData("/data.bin", "bytes=-5000", 0, 1024)]
    [InlineData("/large.bin", "bytes=100000-200000", 100000, 100001)]
    [InlineData("/large.bin", "bytes=-1", 307199, 1)]
    public async Task SingleRange_Gets206WithContentRangeAndExactBytes(string path, string range, int start, int length)
    {
        var file = path == "/data.bin" ? fixture.Site.Small : fixture.Site.Large;

        var response = await fixture.GetAsync(path, ("Range", range));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes {start}-{start + length - 1}/{file.Length}", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(length, response.Content.Headers.ContentLength);
        Assert.Equal(file.AsSpan(start, length).ToArray(), await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("bytes=1024-")]
    [InlineData("bytes=5000-6000")]
    [InlineData("bytes=-0")]
    public async Task Unsatisfiable_Gets416WithTheLength(string range)
    {
        var response = await fixture.GetAsync("/data.bin", ("Range", range));

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */1024", response.Content.Headers.ContentRange?.ToString());
    }

    [Theory]
    [InlineData("bytes=0-1,1-2")] // overlapping
    [InlineData("bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,22-22,24-24,26-26,28-28,30-30,32-32")] // 17 > MaxRanges
    [InlineData("items=0-9")] // not bytes
    [InlineData("bytes=9-0")] // invalid
    public async Task OverlappingTooManyOrInvalid_ServeTheWholeFile(string range)
    {
        var response = await fixture.GetAsync("/data.bin", ("Range", range));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(fixture.Site.Small, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/data.bin")]
    [InlineData("/large.bin")]
    public async Task MultipleRanges_AreMultipartByteRanges_ByteForByte(string path)
    {
        var file = path == "/data.bin" ? fixture.Site.Small : fixture.Site.Large;

        var response = await fixture.GetAsync(path, ("Range", "bytes=0-9, 100-199, -10"));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var type = response.Content.Headers.ContentType!;
        Assert.Equal("multipart/byteranges", type.MediaType);
        var boundary = type.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"');
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);

        var parts = ParseMultipart(body, boundary);
        Assert.Equal(3, parts.Count);
        (int Start, int Length)[] expected = [(0, 10), (100, 100), (file.Length - 10, 10)];
        for (var i = 0; i < parts.Count; i++)
        {
            var (start, length) = expected[i];
            Assert.Equal("application/octet-stream", parts[i].Headers["Content-Type"]);
            Assert.Equal($"bytes {start}-{start + length - 1}/{file.Length}", parts[i].Headers["Content-Range"]);
            Assert.Equal(file.AsSpan(start, length).ToArray(), parts[i].Body);
        }
    }

    [Fact]
    public async Task IfRange_CurrentTag_Gets206_StaleTag_GetsTheWholeFile()
    {
        var etag = (await _client.GetAsync(StaticFileTests.Uri("/data.bin"))).Headers.ETag!.ToString();

        Assert.Equal(HttpStatusCode.PartialContent, (await fixture.GetAsync("/data.bin", ("Range", "bytes=0-9"), ("If-Range", etag))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.GetAsync("/data.bin", ("Range", "bytes=0-9"), ("If-Range", "\"stale\""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.GetAsync("/data.bin", ("Range", "bytes=0-9"), ("If-Range", DateTime.UtcNow.AddYears(-1).ToString("R")))).StatusCode);
    }

    [Fact]
    public async Task Head_IgnoresRange()
    {
        var request = new HttpRequestMessage(HttpMethod.Head, StaticFileTests.Uri("/data.bin"));
        request.Headers.Range = new RangeHeaderValue(0, 9);

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1024, response.Content.Headers.ContentLength);
    }

    /// <summary>A strict multipart/byteranges reader (RFC 2046 §5.1.1): the parts' headers and exact bodies.</summary>
    internal static List<(Dictionary<string, string> Headers, byte[] Body)> ParseMultipart(byte[] body, string boundary)
    {
        var parts = new List<(Dictionary<string, string>, byte[])>();
        var delimiter = System.Text.Encoding.ASCII.GetBytes("\r\n--" + boundary);
        var position = body.AsSpan().IndexOf(delimiter);
        Assert.True(position >= 0, "no first boundary");
        while (true)
        {
            position += delimiter.Length;
            if (body.AsSpan(position).StartsWith("--"u8))
            {
                Assert.Equal("\r\n"u8.ToArray(), body.AsSpan(position + 2).ToArray());
                return parts;
            }

            Assert.True(body.AsSpan(position).StartsWith("\r\n"u8));
            position += 2;
            var headerEnd = body.AsSpan(position).IndexOf("\r\n\r\n"u8);
            var headers = System.Text.Encoding.ASCII.GetString(body, position, headerEnd)
                .Split("\r\n").Select(line => line.Split(": ", 2)).ToDictionary(kv => kv[0], kv => kv[1], StringComparer.OrdinalIgnoreCase);
            position += headerEnd + 4;
            var next = body.AsSpan(position).IndexOf(delimiter);
            parts.Add((headers, body.AsSpan(position, next).ToArray()));
            position += next;
        }
    }
}
