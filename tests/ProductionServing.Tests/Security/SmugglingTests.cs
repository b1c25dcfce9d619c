using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Security;

/// <summary>
/// Request smuggling through the proxy: a request whose framing two parsers could read differently
/// (RFC 9112 §6.3: <c>Content-Length</c> beside <c>Transfer-Encoding</c>, an unknown or repeated coding)
/// is either refused with 400 or forwarded as exactly one request with framing of the proxy's own,
/// so whatever hides in its body stays body at the upstream and never becomes a request of its own,
/// and nothing left on the client's connection is read as a request.
/// </summary>
public sealed class SmugglingTests
{
    /// <summary>A complete request to a path no client may reach, to hide in a body.</summary>
    private const string Hidden = "GET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n";

    [Fact]
    public async Task ContentLengthBesideChunked_IsOneRequest_WhoseWholeChunkedBodyReachesTheUpstream()
    {
        // CL.TE: a front end that trusted Content-Length (4 bytes) would leave the rest on the
        // connection for the back end to read as a request of its own.
        var chunk = "ok\r\n" + Hidden;
        var request = "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            + $"{chunk.Length:x}\r\n{chunk}\r\n0\r\n\r\n";

        await AssertNothingSmuggledAsync(request, chunk);
    }

    [Fact]
    public async Task ChunkedBesideContentLength_ForwardsTheDecodedBody_NotTheLengthsBytes()
    {
        // TE.CL: a back end that trusted Content-Length (3 bytes: "4e\r") would take the chunk's data
        // ("GET /admin ...") for the next request.
        var request = "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
            + $"{Hidden.Length:x}\r\n{Hidden}\r\n0\r\n\r\n";

        await AssertNothingSmuggledAsync(request, Hidden);
    }

    [Theory]
    [InlineData("Transfer-Encoding: xchunked")]
    [InlineData("Transfer-Encoding: chunked, identity")]
    [InlineData("Transfer-Encoding: identity")]
    public async Task TransferCodingOtherThanChunkedLast_IsRefused_AndNothingIsForwarded(string header)
    {
        // RFC 9112 §6.3: a request whose last transfer coding is not chunked cannot be framed: 400.
        await AssertRefusedAsync($"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: {Hidden.Length}\r\n{header}\r\n\r\n{Hidden}");
    }

    [Fact]
    public async Task TwoDifferentContentLengths_AreRefused_AndNothingIsForwarded()
    {
        await AssertRefusedAsync($"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: {Hidden.Length + 2}\r\n\r\nok{Hidden}");
    }

    /// <summary>Sends <paramref name="request"/>: the answer must be 400 and the connection closed, with nothing forwarded.</summary>
    private static async Task AssertRefusedAsync(string request)
    {
        var (upstream, bodies) = await StartUpstreamAsync();
        await using (upstream)
        await using (var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address)))
        {
            using var client = await RawClient.ConnectAsync(host.Port);
            await client.SendAsync(request);
            await client.ReadToCloseAsync();

            Assert.StartsWith("HTTP/1.1 400 ", client.Received, StringComparison.Ordinal);
            Assert.Empty(upstream.Requests);
            Assert.Empty(bodies);
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/>, then a plain <c>GET /next</c> on the same connection unless the
    /// answer closed it: the upstream must see exactly those requests (or none, when the first is refused
    /// with 400), the first with <paramref name="body"/> as its body and no two framings.
    /// </summary>
    private static async Task AssertNothingSmuggledAsync(string request, string body)
    {
        var (upstream, bodies) = await StartUpstreamAsync();
        await using (upstream)
        await using (var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address)))
        {
            using var client = await RawClient.ConnectAsync(host.Port);
            await client.SendAsync(request);
            var first = await client.ReadUntilAsync("\r\n\r\n");
            if (first.StartsWith("HTTP/1.1 400 ", StringComparison.Ordinal))
            {
                await client.ReadToCloseAsync();
                Assert.Empty(upstream.Requests);
                return;
            }

            Assert.StartsWith("HTTP/1.1 200 ", first, StringComparison.Ordinal);
            await client.ReadUntilAsync("body=/upload");
            string[] expected = ["/upload"];
            if (first.Contains("\r\nConnection: close\r\n", StringComparison.OrdinalIgnoreCase))
            {
                // RFC 9112 §6.3: a server that reads such a request as chunked must close the connection after
                // its response; Kestrel does, so nothing more can be read from it as a request.
                await client.ReadToCloseAsync();
            }
            else
            {
                await client.SendAsync("GET /next HTTP/1.1\r\nHost: localhost\r\n\r\n");
                await client.ReadUntilAsync("body=/next");
                expected = ["/upload", "/next"];
            }

            var forwarded = upstream.Requests.ToArray();
            Assert.Equal(expected, Array.ConvertAll(forwarded, r => r.RawTarget));
            Assert.False(forwarded[0].Header("Content-Length") is not null && forwarded[0].Header("Transfer-Encoding") is not null,
                "The upstream got both Content-Length and Transfer-Encoding.");
            Assert.Equal(body, bodies.First(b => b.Path == "/upload").Body);
            Assert.DoesNotContain("/admin", client.Received, StringComparison.Ordinal);
        }
    }

    /// <summary>An upstream that records each request's body and answers <c>body=PATH</c>.</summary>
    private static async Task<(UpstreamHost Upstream, ConcurrentQueue<(string Path, string Body)> Bodies)> StartUpstreamAsync()
    {
        var bodies = new ConcurrentQueue<(string Path, string Body)>();
        var upstream = await UpstreamHost.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            bodies.Enqueue((context.Request.Path.Value!, await reader.ReadToEndAsync(context.RequestAborted)));
            await context.Response.WriteAsync("body=" + context.Request.Path.Value);
        });
        return (upstream, bodies);
    }
}
