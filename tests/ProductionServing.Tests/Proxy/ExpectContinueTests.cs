using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Proxy.ProxyTestHelpers;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// <c>Expect: 100-continue</c> goes to the upstream, so the upstream decides whether the body is sent at
/// all: its first read releases the client's body, and an early final answer spares it.
/// </summary>
public sealed class ExpectContinueTests
{
    [Fact]
    public async Task UpstreamReadsTheBody_TheClientSendsItOnceAsked()
    {
        // YARP Expect100ContinueTests.PostExpect100_BodyNotUploadedIfFailed (200 cases): the Expect header
        // reaches the upstream, whose first read is what releases the client's body.
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            var body = await ReadToEndAsync(context.Request.Body);
            await context.Response.WriteAsync($"{context.Request.Headers.Expect}|{body.Length}");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var client = ExpectContinueClient(host);
        var content = new RecordingContent(100_000);

        using var response = await client.SendAsync(ExpectContinueRequest(content)).WaitAsync(TestTimeouts.Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("100-continue|100000", await response.Content.ReadAsStringAsync());
        Assert.True(content.Sent);
    }

    [Theory]
    [InlineData(StatusCodes.Status417ExpectationFailed)]
    [InlineData(StatusCodes.Status401Unauthorized)]
    public async Task UpstreamAnswersWithoutReading_TheBodyIsNeverSent(int status)
    {
        // YARP Expect100ContinueTests.PostExpect100_BodyNotUploadedIfFailed (400 cases): an early final
        // answer reaches the client, which then never sends the body it was holding back.
        await using var upstream = await UpstreamHost.StartAsync(context =>
        {
            if (context.Request.Method == HttpMethods.Post && context.Request.Headers.Expect.Count != 0)
            {
                context.Response.StatusCode = status;
                context.Response.Headers.WWWAuthenticate = "Basic";
                return context.Response.WriteAsync("rejected");
            }

            return context.Response.WriteAsync("warm");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using var client = ExpectContinueClient(host);

        // HttpClient in the proxy sends the body anyway when no answer comes within its 1 s
        // Expect100ContinueTimeout; a first request takes the JIT out of that window.
        using (var warm = await client.GetAsync("/warm").WaitAsync(TestTimeouts.Wait))
        {
            Assert.Equal("warm", await warm.Content.ReadAsStringAsync());
        }

        var content = new RecordingContent(10 * 1024 * 1024);
        using var response = await client.SendAsync(ExpectContinueRequest(content)).WaitAsync(TestTimeouts.Wait);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("rejected", await response.Content.ReadAsStringAsync());
        Assert.False(content.Sent);
    }

    [Fact]
    public async Task RawClient_GetsTheUpstreamsEarlyAnswer_WithoutA100First()
    {
        // RFC 9110 §10.1.1: the origin may send a final status instead of 100, and the client then need
        // not send the body. The proxy must not ask for it either: its first read of the body is what
        // makes Kestrel send the client a 100.
        await using var upstream = await UpstreamHost.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return Task.CompletedTask;
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        using (await host.Client.GetAsync("/warm").WaitAsync(TestTimeouts.Wait))
        {
        }

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
        var head = await client.ReadUntilAsync("\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 413 ", head, StringComparison.Ordinal);
    }

    /// <summary>A client that waits as long as it takes for 100 Continue, so only the proxy decides when the body goes.</summary>
    private static HttpClient ExpectContinueClient(ServingHost host) =>
        new(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = host.Client.BaseAddress,
            Timeout = TestTimeouts.Wait,
        };

    private static HttpRequestMessage ExpectContinueRequest(HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = content };
        request.Headers.ExpectContinue = true;
        return request;
    }

    /// <summary>A fixed-length body that records whether the client ever started sending it.</summary>
    private sealed class RecordingContent : HttpContent
    {
        private readonly int _length;
        private int _sent;

        public RecordingContent(int length)
        {
            _length = length;
            Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        public bool Sent => Volatile.Read(ref _sent) != 0;

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            Volatile.Write(ref _sent, 1);
            await stream.WriteAsync(new byte[_length], cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _length;
            return true;
        }
    }
}
