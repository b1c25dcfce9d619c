using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using ProductionServing.Diagnostics;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// A client body that fails while it is forwarded: one Kestrel refuses as larger than its
/// <c>MaxRequestBodySize</c> is answered 413 as <see cref="ServingError.RequestBodyTooLarge"/>
/// (<c>body_too_large</c>), whether its length was announced or it grew past the limit in chunks; a
/// malformed one stays <see cref="ServingError.InvalidRequestBody"/> with Kestrel's 400.
/// </summary>
public sealed class RequestBodyTooLargeTests : IAsyncDisposable
{
    private const int Limit = 16;

    private readonly ConcurrentQueue<ServingErrorFeature?> _errors = new();
    private UpstreamHost? _upstream;
    private ServingHost? _host;

    [Fact]
    public async Task AnnouncedLengthOverTheLimit_Is413_BodyTooLarge()
    {
        var host = await StartAsync();
        using var attempts = new MetricCollector<long>(host.App.Services.GetRequiredService<IMeterFactory>(), ServingMetrics.MeterName,
            "production_serving.upstream.attempts");

        using var response = await host.Client.PostAsync("/upload", new ByteArrayContent(new byte[Limit * 4]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("413 Payload Too Large\n", await response.Content.ReadAsStringAsync());
        var error = await RecordedErrorAsync();
        Assert.Equal(ServingError.RequestBodyTooLarge, error.Error);
        Assert.Equal("body_too_large", error.ErrorType);
        Assert.Equal("body_too_large", Assert.Single(attempts.GetMeasurementSnapshot()).Tags[ServingMetrics.ErrorTypeTag]);
    }

    [Fact]
    public async Task ChunkedBodyGrowingPastTheLimit_Is413_BodyTooLarge()
    {
        var host = await StartAsync();
        using var client = await RawClient.ConnectAsync(host.Port);

        await client.SendAsync("POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 413 ", await client.ReadUntilAsync("\r\n\r\n"), StringComparison.Ordinal);
        Assert.Equal(ServingError.RequestBodyTooLarge, (await RecordedErrorAsync()).Error);
    }

    [Fact]
    public async Task MalformedChunkedBody_StaysInvalidRequestBody_WithKestrels400()
    {
        var host = await StartAsync();
        using var client = await RawClient.ConnectAsync(host.Port);

        await client.SendAsync("POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", await client.ReadUntilAsync("\r\n\r\n"), StringComparison.Ordinal);
        var error = await RecordedErrorAsync();
        Assert.Equal(ServingError.InvalidRequestBody, error.Error);
        Assert.Equal("invalid_request_body", error.ErrorType);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }

    /// <summary>A proxy whose Kestrel takes bodies of at most <see cref="Limit"/> bytes, to an upstream that reads the whole body.</summary>
    private async Task<ServingHost> StartAsync()
    {
        _upstream = await UpstreamHost.StartAsync(static async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            await context.Response.WriteAsync("read");
        });
        _host = await ServingHost.StartAsync(ServingJson.PassAll(_upstream.Address),
            beforeServing: app => app.Use(async (context, next) =>
            {
                await next(context);
                _errors.Enqueue(context.Features.Get<ServingErrorFeature>());
            }),
            services: services => services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = Limit));
        return _host;
    }

    /// <summary>The error the request recorded, once the outer middleware saw it end.</summary>
    private async Task<ServingErrorFeature> RecordedErrorAsync()
    {
        await Poll.UntilAsync(() => !_errors.IsEmpty, "the request has ended");
        var error = Assert.Single(_errors);
        Assert.NotNull(error);
        return error;
    }
}
