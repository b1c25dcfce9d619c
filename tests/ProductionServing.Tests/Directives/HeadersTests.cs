using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Directives;

/// <summary>
/// <c>Headers</c>, nginx's <c>add_header … always</c>: set on every response of the location (files, 304, 404,
/// the directives' own 403, the app's streamed responses, the upstream's), <c>""</c> removing a header the
/// handler set, and the location that finally serves the request deciding. Cases after nginx-tests headers.t
/// ("add_header always" on a 404, "add_header ETag ''" removing the ETag).
/// </summary>
public sealed class HeadersTests : IDisposable
{
    private const string Hsts = "max-age=63072000; includeSubDomains";

    private readonly StaticSite _site = new();

    public void Dispose() => _site.Dispose();

    [Fact]
    public async Task StaticFile_ItsNotModified_AndItsNotFound_AllGetTheHeaders()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""
            { "Match": "/", "Static": { "Root": "{{ServingJson.Escape(_site.Root)}}" },
              "Headers": { "Strict-Transport-Security": "{{Hsts}}", "X-Content-Type-Options": "nosniff", "X-Served-Uri": "$uri" } }
            """));

        using var file = await host.Client.GetAsync("/hello.txt");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("hello world", await file.Content.ReadAsStringAsync());
        Assert.Equal(Hsts, Single(file, "Strict-Transport-Security"));
        Assert.Equal("nosniff", Single(file, "X-Content-Type-Options"));
        Assert.Equal("/hello.txt", Single(file, "X-Served-Uri"));

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/hello.txt");
        conditional.Headers.TryAddWithoutValidation("If-None-Match", file.Headers.ETag!.ToString());
        using var notModified = await host.Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(Hsts, Single(notModified, "Strict-Transport-Security"));

        using var missing = await host.Client.GetAsync("/nope.txt");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("404 Not Found\n", await missing.Content.ReadAsStringAsync());
        Assert.Equal(Hsts, Single(missing, "Strict-Transport-Security"));
        Assert.Equal("/nope.txt", Single(missing, "X-Served-Uri"));
    }

    [Fact]
    public async Task EmptyValue_RemovesWhatTheHandlerSet_AndAValueReplacesIt()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""
            { "Match": "/", "Static": { "Root": "{{ServingJson.Escape(_site.Root)}}", "CacheControl": "public, max-age=60" },
              "Headers": { "ETag": "", "Last-Modified": "", "Cache-Control": "no-store" } }
            """));

        using var response = await host.Client.GetAsync("/hello.txt");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.ETag);
        Assert.Null(response.Content.Headers.LastModified);
        Assert.Equal("no-store", Single(response, "Cache-Control"));
    }

    [Fact]
    public async Task AppResponse_StreamedBeforeItEnds_GetsTheHeaders_AndLosesTheRemovedOne()
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "/", "App": {}, "Headers": { "X-Frame-Options": "DENY", "X-Powered-By": "" } }"""),
            afterServing: app => app.Use(async (HttpContext context, RequestDelegate _) =>
            {
                context.Response.Headers["X-Powered-By"] = "the app";
                await context.Response.WriteAsync("first ");
                await context.Response.Body.FlushAsync();
                flushed.SetResult();
                await release.Task.WaitAsync(TestTimeouts.Wait);
                await context.Response.WriteAsync("last");
            }));

        using var response = await host.Client.GetAsync("/stream", HttpCompletionOption.ResponseHeadersRead);
        await flushed.Task.WaitAsync(TestTimeouts.Wait);

        // The headers arrived while the app still holds the rest of its body.
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.False(response.Headers.Contains("X-Powered-By"));
        release.SetResult();
        Assert.Equal("first last", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UpstreamResponse_GetsTheHeaders_OverTheUpstreamsOwn()
    {
        await using var upstream = await UpstreamHost.StartAsync(context =>
        {
            context.Response.Headers["Server"] = "backend/1.0";
            context.Response.Headers["X-Frame-Options"] = "ALLOWALL";
            return context.Response.WriteAsync("from upstream");
        });
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/api/", "Proxy": { "Pass": "{{upstream.Address}}" }, "Headers": { "X-Frame-Options": "DENY", "Server": "" } }"""));

        using var response = await host.Client.GetAsync("/api/x");

        Assert.Equal("from upstream", await response.Content.ReadAsStringAsync());
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));

        // Kestrel writes its own Server header where the response has none (KestrelServerOptions.AddServerHeader).
        Assert.Equal("Kestrel", Single(response, "Server"));
    }

    [Fact]
    public async Task TheLocationThatFinallyServes_Decides_AndTryFilesAppKeepsItsLocationsHeaders()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""
            { "Match": "/hand/", "App": {}, "Headers": { "X-From": "app location" } },
            { "Match": "/files/", "Internal": true, "Static": { "Alias": "{{ServingJson.Escape(_site.Root)}}/" }, "Headers": { "X-From": "files location $uri" } },
            { "Match": "/", "Static": { "Root": "{{ServingJson.Escape(_site.Root)}}", "TryFiles": [ "$uri", "@app" ] }, "Headers": { "X-From": "root location" } }
            """),
            afterServing: app => app.Use((HttpContext context, RequestDelegate next) =>
            {
                if (context.Request.Path.StartsWithSegments("/hand"))
                {
                    context.Response.Headers["X-Accel-Redirect"] = "/files/hello.txt";
                    return Task.CompletedTask;
                }

                return next(context);
            }));

        using var handedOff = await host.Client.GetAsync("/hand/download");
        Assert.Equal("hello world", await handedOff.Content.ReadAsStringAsync());
        Assert.Equal("files location /files/hello.txt", Single(handedOff, "X-From"));

        using var file = await host.Client.GetAsync("/hello.txt");
        Assert.Equal("root location", Single(file, "X-From"));

        using var fellBack = await host.Client.GetAsync("/no/such/file");
        Assert.Equal(HttpStatusCode.OK, fellBack.StatusCode);
        Assert.Equal("-1|@app|App|default|/no/such/file", await fellBack.Content.ReadAsStringAsync());
        Assert.Equal("root location", Single(fellBack, "X-From"));
    }

    [Fact]
    public async Task LocationWithoutHeaders_GetsNone_WhileAnotherHasThem()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "/a/", "App": {}, "Headers": { "X-A": "1" } }, { "Match": "/b/", "App": {} }"""));

        using var a = await host.Client.GetAsync("/a/x");
        using var b = await host.Client.GetAsync("/b/x");

        Assert.Equal("1", Single(a, "X-A"));
        Assert.False(b.Headers.Contains("X-A"));
    }

    [Fact]
    public async Task RequestHeaderVariable_IsSentAsTheClientWroteIt_AndAValueEmptyOnceExpandedIsNotAdded()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "/", "Return": { "Status": 200, "Body": "ok" }, "Headers": { "X-Echo": "[$http_x_trace]", "X-Bare": "$http_x_trace", "X-Id": "$request_id" } }"""));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Trace", "abc");

        using var response = await host.Client.SendAsync(request);
        using var bare = await host.Client.GetAsync("/");

        Assert.Equal("[abc]", Single(response, "X-Echo"));
        Assert.Equal("[]", Single(bare, "X-Echo"));
        Assert.Equal("abc", Single(response, "X-Bare"));

        // nginx's add_header adds nothing for a value that expands to nothing.
        Assert.False(bare.Headers.Contains("X-Bare"));
        Assert.Matches("^[0-9a-f]{32}$", Single(response, "X-Id"));
        Assert.NotEqual(Single(response, "X-Id"), Single(bare, "X-Id"));
    }

    [Fact]
    public async Task ListHeaders_JoinTheResponsesOwn_OthersReplaceThem()
    {
        // As nginx's add_header adds a line: replacing Vary would drop the app's Accept-Encoding (a shared cache
        // would then serve one coding to every client), and each Set-Cookie or Link is a cookie or link of its own.
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """
            { "Match": "/", "App": {}, "Headers": { "Vary": "Origin", "Set-Cookie": "site=1; Path=/", "Link": "</b.js>; rel=preload",
              "Cache-Control": "no-store" } }
            """),
            afterServing: app => app.Run(context =>
            {
                var headers = context.Response.Headers;
                headers.Vary = "Accept-Encoding";
                headers.SetCookie = "session=abc; HttpOnly";
                headers.Link = "</a.css>; rel=preload";
                headers.CacheControl = "private";
                return context.Response.WriteAsync("app");
            }));

        using var response = await host.Client.GetAsync("/page");

        Assert.Equal(["Accept-Encoding", "Origin"], response.Headers.Vary);
        Assert.Equal(["session=abc; HttpOnly", "site=1; Path=/"], response.Headers.GetValues("Set-Cookie"));
        Assert.Equal(["</a.css>; rel=preload", "</b.js>; rel=preload"], response.Headers.GetValues("Link"));
        Assert.Equal("no-store", Single(response, "Cache-Control"));
    }

    [Fact]
    public async Task ListHeaders_OfAReExecutedRequest_AreJoinedOnce()
    {
        // UseStatusCodePagesWithReExecute runs the pipeline again on the same request: each run registers the
        // location's headers, and both run as the response starts.
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """
            { "Match": "= /missing", "Return": { "Status": 404 }, "Headers": { "Vary": "Origin" } },
            { "Match": "= /error-page", "App": {}, "Headers": { "Vary": "Origin" } }
            """),
            beforeServing: app => app.UseStatusCodePagesWithReExecute("/error-page"),
            afterServing: app => app.Run(context =>
            {
                context.Response.Headers.Vary = "Accept-Encoding";
                return context.Response.WriteAsync("error page");
            }));

        using var response = await host.Client.GetAsync("/missing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("error page", await response.Content.ReadAsStringAsync());
        Assert.Equal(["Accept-Encoding", "Origin"], response.Headers.Vary);
    }

    [Fact]
    public async Task DecodedVariable_WithCharactersAHeaderCannotCarry_IsPercentEncoded()
    {
        // $uri is decoded; Kestrel refuses a non-ASCII response header, which would fail every such request.
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """{ "Match": "/", "Return": { "Status": 200, "Body": "ok" }, "Headers": { "X-Path": "$uri" } }"""));

        using var response = await host.Client.GetAsync("/caf%C3%A9/menu");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/caf%C3%A9/menu", Single(response, "X-Path"));
    }

    [Fact]
    public async Task RegexLocationsCaptures_ReachTheTryFilesAppFallbacksHeaders()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""
            { "Match": "~ ^/(\\w+)/", "Static": { "Root": "{{ServingJson.Escape(_site.Root)}}", "TryFiles": [ "$uri", "@app" ] }, "Headers": { "X-Section": "$1" } }
            """));

        using var fellBack = await host.Client.GetAsync("/shop/no/such/file");

        Assert.Equal(HttpStatusCode.OK, fellBack.StatusCode);
        Assert.Equal("-1|@app|App|default|/shop/no/such/file", await fellBack.Content.ReadAsStringAsync());
        Assert.Equal("shop", Single(fellBack, "X-Section"));
    }

    private static string Single(HttpResponseMessage response, string name) =>
        Assert.Single(response.Headers.TryGetValues(name, out var values) ? values
            : response.Content.Headers.TryGetValues(name, out var content) ? content : []);
}
