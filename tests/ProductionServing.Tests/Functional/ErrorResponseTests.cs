using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Functional;

/// <summary>
/// Every status ProductionServing answers itself comes from one place: the same short plain-text body
/// and headers, and the cause recorded as <see cref="ServingErrorFeature"/> for outer middleware.
/// </summary>
public sealed class ErrorResponseTests : IAsyncLifetime, IDisposable
{
    private readonly StaticSite _site = new();
    private readonly ConcurrentDictionary<string, ServingError?> _errors = new();
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RawUpstream _resetting = null!;
    private RawUpstream _stalling = null!;
    private ServingHost _host = null!;

    public async Task InitializeAsync()
    {
        _resetting = RawUpstream.Start(static async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            RawUpstream.Reset(socket);
        });
        _stalling = RawUpstream.Start(static async (socket, cancellationToken) =>
        {
            await RawUpstream.ReadHeadAsync(socket, cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        });
        var root = ServingJson.Escape(_site.Root);
        var json = $$"""
        { "ProductionServing": {
            "Locations": [
                { "Match": "/files/", "Static": { "Alias": "{{root}}/" } },
                { "Match": "/loop/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "/loop/again" ] } },
                { "Match": "/gone/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "=410" ] } },
                { "Match": "/broken/", "Proxy": { "Pass": "http://broken" } },
                { "Match": "/slow/", "Proxy": { "Pass": "http://slow" } },
                { "Match": "/busy/", "App": { "Pool": "tiny" } },
                { "Match": "/private/", "Internal": true, "App": {} }
            ],
            "Upstreams": {
                "broken": { "Servers": [ { "Address": "{{_resetting.Address}}" } ], "Retries": 0 },
                "slow": { "Servers": [ { "Address": "{{_stalling.Address}}" } ], "ReadTimeout": "00:00:00.200" }
            },
            "Pools": { "tiny": { "MaxConcurrency": 1, "QueueLimit": 0 } } } }
        """;
        _host = await ServingHost.StartAsync(json, beforeServing: app => app.Use(RecordError), afterServing: app => app.Use(HoldBusy));
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _host.DisposeAsync();
        await _resetting.DisposeAsync();
        await _stalling.DisposeAsync();
    }

    public void Dispose() => _site.Dispose();

    [Theory]
    [InlineData("GET /%2e%2e/x HTTP/1.1", 400, "400 Bad Request\n", ServingError.InvalidRequestTarget)]
    [InlineData("GET /files/empty/ HTTP/1.1", 403, "403 Forbidden\n", ServingError.DirectoryListingDenied)]
    [InlineData("GET /files/none.txt HTTP/1.1", 404, "404 Not Found\n", ServingError.FileNotFound)]
    [InlineData("GET /private/x HTTP/1.1", 404, "404 Not Found\n", ServingError.InternalLocation)]
    [InlineData("DELETE /files/hello.txt HTTP/1.1", 405, "405 Method Not Allowed\n", ServingError.MethodNotAllowed)]
    [InlineData("GET /gone/none.txt HTTP/1.1", 410, "410 Gone\n", ServingError.TryFilesStatus)]
    [InlineData("GET /loop/none HTTP/1.1", 500, "500 Internal Server Error\n", ServingError.RedirectLoop)]
    [InlineData("GET /broken/x HTTP/1.1", 502, "502 Bad Gateway\n", ServingError.UpstreamReset)]
    [InlineData("GET /slow/x HTTP/1.1", 504, "504 Gateway Timeout\n", ServingError.UpstreamTimeout)]
    public async Task Error_HasTheShortPlainBody_AndRecordsItsCause(string requestLine, int status, string body, ServingError error)
    {
        var response = await _host.SendRawAsync(requestLine);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(body, response.Body);
        Assert.Contains("\r\nContent-Type: text/plain; charset=utf-8", response.Head, StringComparison.Ordinal);
        Assert.Contains("\r\nContent-Length: " + Encoding.ASCII.GetByteCount(body), response.Head, StringComparison.Ordinal);
        Assert.Equal(status == 405, response.Head.Contains("\r\nAllow: GET, HEAD", StringComparison.Ordinal));
        Assert.DoesNotContain("Retry-After", response.Head, StringComparison.Ordinal);
        Assert.Equal(error, _errors[requestLine.Split(' ')[1]]);
    }

    [Fact]
    public async Task PoolRejection_Is503_WithRetryAfter()
    {
        var held = _host.Client.GetAsync(new Uri("/busy/hold", UriKind.Relative));
        await _held.Task.WaitAsync(TestTimeouts.Wait);

        var response = await _host.SendRawAsync("GET /busy/other HTTP/1.1");
        _release.SetResult();

        Assert.Equal(503, response.StatusCode);
        Assert.Equal("503 Service Unavailable\n", response.Body);
        Assert.Contains("\r\nRetry-After: 1\r\n", response.Head + "\r\n", StringComparison.Ordinal);
        Assert.Equal(ServingError.PoolQueueFull, _errors["/busy/other"]);
        Assert.Equal(HttpStatusCode.OK, (await held).StatusCode);

        // The outer middleware records after the response went out over a kept-alive connection.
        await Poll.UntilAsync(() => _errors.ContainsKey("/busy/hold"), "the held request has ended");
        Assert.Null(_errors["/busy/hold"]);
    }

    [Fact]
    public async Task Head_GetsTheHeadersOfTheError_WithoutTheBody()
    {
        var response = await _host.SendRawAsync("HEAD /files/none.txt HTTP/1.1");

        Assert.Equal(404, response.StatusCode);
        Assert.Contains("\r\nContent-Length: 14", response.Head, StringComparison.Ordinal);
        Assert.Equal("", response.Body);
    }

    [Fact]
    public async Task StatusCodePagesBeforeTheLibrary_RenderTheirOwnBody()
    {
        await using var host = await ServingHost.StartAsync(
            """{ "ProductionServing": { "Locations": [ { "Match": "/private/", "Internal": true, "App": {} } ] } }""",
            beforeServing: app => app.UseStatusCodePages());

        var response = await host.Client.GetAsync(new Uri("/private/x", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.StartsWith("Status Code: 404; Not Found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>What an outer middleware sees after the request: the recorded error, by request path.</summary>
    private async Task RecordError(HttpContext context, Func<Task> next)
    {
        var path = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
        await next();
        _errors[path] = context.Features.Get<ServingErrorFeature>()?.Error;
    }

    /// <summary>The app: <c>/busy/hold</c> holds the tiny pool's only slot until the test releases it.</summary>
    private async Task HoldBusy(HttpContext context, Func<Task> next)
    {
        if (context.Request.Path == "/busy/hold")
        {
            _held.TrySetResult();
            await _release.Task;
        }

        await next();
    }
}
