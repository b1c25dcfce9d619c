using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Proxy.ProxyTestHelpers;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Bodies are streamed, not buffered: each piece an upstream sends reaches the client before the upstream
/// sends the next, each piece a client sends reaches the upstream before the client sends the next, and
/// the upstream connection's framing (chunks, trailers) is decoded and framed anew for the client.
/// </summary>
public sealed class StreamingTests
{
    [Fact]
    public async Task EventStream_EachEventReachesTheClient_BeforeTheUpstreamSendsTheNext()
    {
        var second = Signal();
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: one\n\n");
            await second.Task.WaitAsync(TestTimeouts.Wait);
            await context.Response.WriteAsync("data: two\n\n");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var response = await host.Client.GetAsync("/events", HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        var first = await ReadUntilAsync(body, "data: one\n\n");
        second.SetResult();
        var rest = await ReadToEndAsync(body);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.Equal("data: one\n\n", first);
        Assert.Equal("data: two\n\n", rest);
    }

    [Fact]
    public async Task ChunkedResponse_EachChunkReachesTheClient_BeforeTheUpstreamSendsTheNext()
    {
        var released = new[] { Signal(), Signal() };
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            await context.Response.WriteAsync("chunk-0;");
            for (var i = 0; i < released.Length; i++)
            {
                await released[i].Task.WaitAsync(TestTimeouts.Wait);
                await context.Response.WriteAsync($"chunk-{i + 1};");
            }
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var response = await host.Client.GetAsync("/chunks", HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        var received = new List<string> { await ReadUntilAsync(body, "chunk-0;") };
        for (var i = 0; i < released.Length; i++)
        {
            released[i].SetResult();
            received.Add(await ReadUntilAsync(body, $"chunk-{i + 1};"));
        }

        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Equal(["chunk-0;", "chunk-1;", "chunk-2;"], received);
        Assert.Equal("", await ReadToEndAsync(body));
    }

    [Fact]
    public async Task ChunkedRequestBody_EachPieceReachesTheUpstream_BeforeTheClientSendsTheNext()
    {
        var firstArrived = Signal();
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            var body = context.Request.Body;
            var first = await ReadUntilAsync(body, "piece-1;");
            firstArrived.SetResult();
            var rest = await ReadToEndAsync(body);
            await context.Response.WriteAsync($"{context.Request.Headers.TransferEncoding}|{first}|{rest}");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        using var content = new GatedContent("piece-1;", firstArrived.Task, "piece-2;");
        using var response = await host.Client.PostAsync("/upload", content).WaitAsync(TestTimeouts.Wait);

        Assert.Equal("chunked|piece-1;|piece-2;", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChunkedUpstreamResponse_WithExtensionsAndTrailers_IsDecodedAndReChunked()
    {
        // nginx-tests proxy_chunked.t: a chunked upstream answer reaches the client whole. Chunk
        // extensions and the trailer section are the upstream connection's framing, not the body.
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: close\r\n\r\n"
                + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\n"), cancellationToken);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));

        var response = await host.SendRawAsync("GET /chunked HTTP/1.1");

        Assert.Equal(200, response.StatusCode);
        Assert.Contains("Transfer-Encoding: chunked", response.Head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Trailer:", response.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("hello world", Dechunk(response.Body));
        Assert.EndsWith("0\r\n\r\n", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponseTrailers_ReachAnHttp2Client()
    {
        // nginx-tests grpc_trailers.t: trailers pass through where the client's protocol carries them.
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: close\r\n\r\n"
                + "5\r\nhello\r\n0\r\nX-Checksum: 42\r\n\r\n"), cancellationToken);
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address), protocols: HttpProtocols.Http2);
        using var client = new HttpClient
        {
            BaseAddress = host.Client.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TestTimeouts.Wait,
        };

        using var response = await client.GetAsync("/trailers");

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("hello", await response.Content.ReadAsStringAsync());
        Assert.Equal("42", response.TrailingHeaders.GetValues("X-Checksum").Single());
    }

    /// <summary>The data of a chunked body (extensions ignored); fails on anything but valid framing.</summary>
    private static string Dechunk(string body)
    {
        var data = new StringBuilder();
        var position = 0;
        while (true)
        {
            var lineEnd = body.IndexOf("\r\n", position, StringComparison.Ordinal);
            Assert.True(lineEnd >= 0, $"Unterminated chunk size line in: {body}");
            var sizeText = body[position..lineEnd].Split(';')[0];
            var size = Convert.ToInt32(sizeText, 16);
            position = lineEnd + 2;
            if (size == 0)
            {
                return data.ToString();
            }

            data.Append(body, position, size);
            position += size;
            Assert.Equal("\r\n", body.Substring(position, 2));
            position += 2;
        }
    }
}
