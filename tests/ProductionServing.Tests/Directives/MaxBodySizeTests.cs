using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Directives;

/// <summary>
/// <c>MaxBodySize</c>, nginx's <c>client_max_body_size</c>: an announced body over the limit is 413 before the
/// handler runs; a chunked one is 413 once it grows past the limit; within the location the limit replaces the
/// server's own, higher or lower, and 0 lifts it. Cases after nginx-tests body.t and
/// client_max_body_size handling (413 on Content-Length, 413 on a chunked body).
/// </summary>
public sealed class MaxBodySizeTests
{
    private const string Locations = """
        { "Match": "/small/", "App": {}, "MaxBodySize": 100, "Headers": { "X-Limit": "100" } },
        { "Match": "/large/", "App": {}, "MaxBodySize": 5000 },
        { "Match": "/unlimited/", "App": {}, "MaxBodySize": 0 },
        { "Match": "/server/", "App": {} }
        """;

    [Fact]
    public async Task AnnouncedLengthOverTheLimit_Is413_BeforeTheAppRuns()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.PostAsync("/small/upload", new ByteArrayContent(new byte[101]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("413 Payload Too Large\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("100", Assert.Single(response.Headers.GetValues("X-Limit")));
        Assert.Equal(0, host.AppInvocations);
        Assert.True(host.Logs.HasEvent(1121, "Limit", "100"));
    }

    [Fact]
    public async Task BodyWithinTheLimit_IsServed()
    {
        await using var host = await StartAsync();

        using var announced = await host.Client.PostAsync("/small/upload", new ByteArrayContent(new byte[100]));

        // Kestrel measures a chunked body with its framing (each chunk's size line and CRLFs), so one chunk of
        // 100 bytes would count as 110: docs/directives.md tells nginx users so.
        using var chunked = await PostChunkedAsync(host, "/small/upload", 80);

        Assert.Equal(HttpStatusCode.OK, announced.StatusCode);
        Assert.Equal("read 100", await announced.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, chunked.StatusCode);
        Assert.Equal("read 80", await chunked.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChunkedBodyThatGrowsPastTheLimit_Is413()
    {
        await using var host = await StartAsync();

        using var response = await PostChunkedAsync(host, "/small/upload", 4096);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task TheLocationsLimit_ReplacesTheServersOwn_HigherLowerOrNone()
    {
        // Kestrel's own limit here is 1,000 bytes: /large/ raises it, /unlimited/ lifts it, /server/ keeps it.
        await using var host = await StartAsync();

        using var large = await PostChunkedAsync(host, "/large/upload", 4000);
        using var unlimited = await PostChunkedAsync(host, "/unlimited/upload", 20_000);
        using var server = await PostChunkedAsync(host, "/server/upload", 4000);
        using var serverAnnounced = await host.Client.PostAsync("/server/upload", new ByteArrayContent(new byte[4000]));

        Assert.Equal("read 4000", await large.Content.ReadAsStringAsync());
        Assert.Equal("read 20000", await unlimited.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, server.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, serverAnnounced.StatusCode);
    }

    [Fact]
    public async Task Refused_CloseTheConnection_InsteadOfDrainingTheBody()
    {
        // nginx closes a keepalive connection after its 413: the body it did not read is not drained.
        await using var host = await StartAsync();

        using var response = await host.Client.PostAsync("/small/upload", new ByteArrayContent(new byte[101]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.True(response.Headers.ConnectionClose);
    }

    [Fact]
    public async Task InternalRedirect_ToALocationWithoutALimit_GetsTheServersOwnBack()
    {
        // nginx takes client_max_body_size from the location that serves: after X-Accel-Redirect from /small/
        // (100 bytes) to /server/, Kestrel's own 1,000 applies to the body /server/ reads.
        await using var host = await ServingHost.StartAsync(ServingJson.Config(Locations),
            afterServing: app => app.Use(async (HttpContext context, RequestDelegate _) =>
            {
                if (context.Request.Path.StartsWithSegments("/small"))
                {
                    context.Response.Headers["X-Accel-Redirect"] = "/server/upload";
                    return;
                }

                var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                await context.Response.WriteAsync("read " + body.Length.ToString(CultureInfo.InvariantCulture));
            }),
            services: services => services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = 1000));

        using var response = await PostChunkedAsync(host, "/small/handoff", 500);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("read 500", await response.Content.ReadAsStringAsync());
    }

    private static Task<ServingHost> StartAsync() => ServingHost.StartAsync(ServingJson.Config(Locations),
        afterServing: app => app.Use(async (HttpContext context, RequestDelegate _) =>
        {
            // The app reads the whole body, as a form or upload handler does; Kestrel's 413 ends it when too large.
            var buffer = new byte[1024];
            var total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                total += read;
            }

            await context.Response.WriteAsync("read " + total.ToString(CultureInfo.InvariantCulture));
        }),
        services: services => services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = 1000));

    private static Task<HttpResponseMessage> PostChunkedAsync(ServingHost host, string path, int length)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(new byte[length]) };
        request.Headers.TransferEncodingChunked = true;
        return host.Client.SendAsync(request);
    }
}
