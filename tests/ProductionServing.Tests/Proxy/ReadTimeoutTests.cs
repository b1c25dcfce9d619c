using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Proxy.ProxyTestHelpers;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// <c>ReadTimeout</c> bounds each wait for the upstream (nginx's proxy_read_timeout and proxy_send_timeout:
/// between two successive reads or writes), never the wait for a slow client: an upstream that stalls gets
/// a 504 before the response and an aborted connection after, a client that stalls does not.
/// </summary>
public sealed class ReadTimeoutTests
{
    [Fact]
    public async Task SlowClientDownload_StalledLongerThanReadTimeout_IsNotAborted()
    {
        // ReadTimeout is the upstream's (nginx's proxy_read_timeout, between two reads from it): a client
        // slow to take the body is Kestrel's business (MinResponseDataRate), not a stalled upstream.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var clientStalls = new GatedFlush();
        var second = Signal();
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            await context.Response.WriteAsync("one;");
            await second.Task.WaitAsync(TestTimeouts.Wait);
            await context.Response.WriteAsync("two;");
        });
        await using var host = await ServingHost.StartAsync(
            Config(upstream.Address, readTimeout: "00:00:01"),
            beforeServing: app => app.Use((context, next) =>
            {
                context.Features.Set<IHttpResponseBodyFeature>(clientStalls.Wrap(context.Features.Get<IHttpResponseBodyFeature>()!));
                return next(context);
            }),
            services: services => services.AddSingleton<TimeProvider>(time));

        var download = host.Client.GetStringAsync("/download");
        await clientStalls.Flushing.WaitAsync(TestTimeouts.Wait);
        time.Advance(TimeSpan.FromMinutes(1));
        clientStalls.Release();
        second.SetResult();

        Assert.Equal("one;two;", await download.WaitAsync(TestTimeouts.Wait));
        Assert.DoesNotContain(host.Logs.GetSnapshot(), r => r.Id.Id is 3007 or 3014);
    }

    [Fact]
    public async Task SlowClientUpload_PausedLongerThanReadTimeout_IsForwardedWhole()
    {
        // The same for a request body: ReadTimeout bounds a write the upstream does not take, not the
        // wait for a client that pauses (Kestrel's MinRequestBodyDataRate covers that).
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var firstArrived = Signal();
        var resume = Signal();
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            var first = await ReadUntilAsync(context.Request.Body, "piece-1;");
            firstArrived.SetResult();
            await context.Response.WriteAsync(first + await ReadToEndAsync(context.Request.Body));
        });
        await using var host = await ServingHost.StartAsync(
            Config(upstream.Address, readTimeout: "00:00:01"),
            services: services => services.AddSingleton<TimeProvider>(time));

        using var content = new GatedContent("piece-1;", resume.Task, "piece-2;");
        var upload = host.Client.PostAsync("/upload", content);
        await firstArrived.Task.WaitAsync(TestTimeouts.Wait);
        time.Advance(TimeSpan.FromMinutes(1));
        resume.SetResult();

        using var response = await upload.WaitAsync(TestTimeouts.Wait);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("piece-1;piece-2;", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UpstreamNotTakingTheBody_ForReadTimeout_Returns504()
    {
        // nginx's proxy_send_timeout: the upstream reads the head, then never the body; once the body has
        // filled the connection's buffers the proxy's write waits, and ReadTimeout bounds that wait.
        const int Size = 64 * 1024 * 1024;
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        });
        await using var host = await ServingHost.StartAsync(
            Config(upstream.Address, readTimeout: "00:00:00.5"),
            services: services => services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = null));

        // A raw client, because HttpClient sends its whole body before it reads an answer.
        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync($"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: {Size}\r\n\r\n");
        var sending = client.SendUntilFailureAsync(new byte[64 * 1024], Size);
        var head = await client.ReadUntilAsync("\r\n\r\n");
        client.Reset();
        await sending;

        Assert.StartsWith("HTTP/1.1 504 ", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamStalls_AfterTheHeaders_ReadTimeoutAbortsTheClientConnection()
    {
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nthe start"), cancellationToken);
            await WaitForCloseAsync(socket, cancellationToken);
        });
        await using var host = await ServingHost.StartAsync(Config(upstream.Address, readTimeout: "00:00:00.5"));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("GET /file HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await client.ReadToCloseAsync();

        AssertIncomplete(client.Received);
        var log = await host.Logs.WaitForEventAsync(3014);
        Assert.Equal($"127.0.0.1:{upstream.Port}", log.Field("Server"));
    }

    [Fact]
    public async Task UpstreamStalls_BeforeTheHeaders_Returns504()
    {
        await using var upstream = RawUpstream.Start(async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await WaitForCloseAsync(socket, cancellationToken);
        });
        await using var host = await ServingHost.StartAsync(Config(upstream.Address, readTimeout: "00:00:00.5"));

        using var response = await host.Client.GetAsync("/slow");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var log = await host.Logs.WaitForEventAsync(3003);
        Assert.Equal(("backend", $"127.0.0.1:{upstream.Port}"), (log.Field("Upstream"), log.Field("Server")));
    }

    /// <summary>One location, <c>/</c>, passing to the group <c>backend</c> of one server with the given ReadTimeout and no retries.</summary>
    private static string Config(string address, string readTimeout) =>
        ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", $$""" "ReadTimeout": "{{readTimeout}}", "Retries": 0 """, address));

    /// <summary>A client that stalls: the first flush of the response body waits until <see cref="Release"/>.</summary>
    private sealed class GatedFlush
    {
        private readonly TaskCompletionSource _flushing = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the proxy's first flush began (and waits).</summary>
        public Task Flushing => _flushing.Task;

        public void Release() => _released.SetResult();

        public IHttpResponseBodyFeature Wrap(IHttpResponseBodyFeature inner) => new Feature(inner, this);

        private sealed class Feature(IHttpResponseBodyFeature inner, GatedFlush gate) : IHttpResponseBodyFeature
        {
            private readonly Writer _writer = new(inner.Writer, gate);

            public Stream Stream => inner.Stream;

            public PipeWriter Writer => _writer;

            public Task CompleteAsync() => inner.CompleteAsync();

            public void DisableBuffering() => inner.DisableBuffering();

            public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
                inner.SendFileAsync(path, offset, count, cancellationToken);

            public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);
        }

        private sealed class Writer(PipeWriter inner, GatedFlush gate) : PipeWriter
        {
            public override void Advance(int bytes) => inner.Advance(bytes);

            public override void CancelPendingFlush() => inner.CancelPendingFlush();

            public override void Complete(Exception? exception = null) => inner.Complete(exception);

            public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
            {
                if (gate._flushing.TrySetResult())
                {
                    await gate._released.Task.WaitAsync(TestTimeouts.Wait, cancellationToken);
                }

                return await inner.FlushAsync(cancellationToken);
            }

            public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

            public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
        }
    }
}
