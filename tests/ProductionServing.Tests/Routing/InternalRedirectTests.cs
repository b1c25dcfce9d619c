using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Routing;

/// <summary>
/// One internal redirect for TryFiles paths, X-Accel-Redirect and @app: the target is matched again and
/// served by whatever handler its location has (nginx's ngx_http_internal_redirect), with the target's
/// path and query, in the target location's pool.
/// </summary>
public sealed class InternalRedirectTests : IAsyncLifetime, IDisposable
{
    private readonly StaticSite _site = new();
    private UpstreamHost _upstream = null!;

    public async Task InitializeAsync() =>
        _upstream = await UpstreamHost.StartAsync(context => context.Response.WriteAsync(
            "upstream:" + context.Request.Method + " " + context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget
            + " length=" + (context.Request.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none")));

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    public void Dispose() => _site.Dispose();

    [Fact]
    public async Task HandOffToAnInternalProxyLocation_WithoutAnyStaticLocation_ForwardsTheTarget()
    {
        // nginx's object-storage pattern: the app authorizes, an internal location proxies the download.
        await using var host = await StartAsync(withStatic: false);

        var response = await host.Client.GetAsync(new Uri("/hand?to=/storage/obj/report.pdf%3Fsig%3Dabc", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("upstream:GET /bucket/obj/report.pdf?sig=abc length=none", body);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
    }

    [Fact]
    public async Task HandOff_ReplacesTheQuery_AsNginxReplacesArgs()
    {
        await using var host = await StartAsync(withStatic: false);

        var body = await host.Client.GetStringAsync(new Uri("/hand?to=/storage/x&keep=no", UriKind.Relative));

        Assert.Equal("upstream:GET /bucket/x length=none", body);
    }

    [Fact]
    public async Task HandOffOfAPost_IsServedAsAGet_WithoutTheBodyTheAppTook()
    {
        await using var host = await StartAsync(withStatic: true);

        var proxied = await host.Client.PostAsync(new Uri("/hand?to=/storage/up", UriKind.Relative), new StringContent("the app's form"));
        var file = await host.Client.PostAsync(new Uri("/hand?to=/files/hello.txt", UriKind.Relative), new StringContent("the app's form"));

        Assert.Equal("upstream:GET /bucket/up length=none", await proxied.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("hello world", await file.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HandOffToAnAppLocation_RunsInThatLocationsPool()
    {
        await using var host = await StartAsync(withStatic: true);

        var body = await host.Client.GetStringAsync(new Uri("/hand?to=/workers/job%3Fid%3D7", UriKind.Relative));

        Assert.Equal("pool=workers thread=ProductionServing worker workers#1 GET /workers/job?id=7 handler=App", body);
    }

    [Fact]
    public async Task TryFilesPath_LeadingToAProxyLocation_IsForwarded()
    {
        await using var host = await StartAsync(withStatic: true);

        var missing = await host.Client.GetStringAsync(new Uri("/try-proxy/none.txt?q=1", UriKind.Relative));
        var present = await host.Client.GetStringAsync(new Uri("/try-proxy/hello.txt", UriKind.Relative));

        Assert.Equal("upstream:GET /bucket/fallback length=none", missing);
        Assert.Equal("hello world", present);
    }

    [Fact]
    public async Task TryFilesPath_LeadingToAnAppLocationWithItsOwnPool_RunsInThatPool()
    {
        await using var host = await StartAsync(withStatic: true);

        var body = await host.Client.GetStringAsync(new Uri("/try-app/none.txt", UriKind.Relative));

        Assert.Equal("pool=workers thread=ProductionServing worker workers#1 GET /workers/from-try handler=App", body);
    }

    [Fact]
    public async Task TryFilesPath_WithAQuery_SetsIt()
    {
        await using var host = await StartAsync(withStatic: true);

        var body = await host.Client.GetStringAsync(new Uri("/try-query/none.txt?dropped=1", UriKind.Relative));

        Assert.Equal("pool=workers thread=ProductionServing worker workers#1 GET /workers/q?from=try handler=App", body);
    }

    [Theory]
    [InlineData("/try-args/none.txt?p=1&q=$uri", "GET /workers/index.php?p=1&q=$uri")]
    [InlineData("/try-args/none.txt", "GET /workers/index.php")]
    [InlineData("/try-is-args/none.txt?p=2", "GET /workers/index.php?p=2")]
    [InlineData("/try-is-args/none.txt", "GET /workers/index.php")]
    public async Task TryFilesPath_WithArgs_KeepsTheRequestsQuery(string target, string seen)
    {
        // nginx's "try_files $uri /index.php?$args" (and "$is_args$args"): the query goes along, expanded once.
        await using var host = await StartAsync(withStatic: true);

        var body = await host.Client.GetStringAsync(new Uri(target, UriKind.Relative));

        Assert.Equal($"pool=workers thread=ProductionServing worker workers#1 {seen} handler=App", body);
    }

    [Fact]
    public async Task AnIndexFileAnotherLocationSelects_IsServedThere_NotSentAsAFile()
    {
        // nginx's index module redirects internally to the index file: "index index.php" with a location that
        // forwards .php runs the script; the file's source never goes out.
        _site.Write("php/index.php", "<?php echo 'source'; ?>");
        _site.Write("php/docs/index.html", "docs index");
        await using var host = await StartAsync(withStatic: true);

        var script = await host.Client.GetStringAsync(new Uri("/php/?page=2", UriKind.Relative));
        var docs = await host.Client.GetStringAsync(new Uri("/php/docs/", UriKind.Relative));

        Assert.Equal("pool=workers thread=ProductionServing worker workers#1 GET /php/index.php?page=2 handler=App", script);
        Assert.Equal("docs index", docs);
    }

    [Fact]
    public async Task AnIndexFileNoLocationSelects_IsSentFromTheFolders()
    {
        // "= /solo/" has an index file whose path, /solo/index.html, no location matches: nginx would serve it from
        // the server's root; here the location that found it sends it (the app must not get it).
        _site.Write("php/docs/index.html", "docs index");
        await using var host = await StartAsync(withStatic: true);

        var body = await host.Client.GetStringAsync(new Uri("/solo/", UriKind.Relative));

        Assert.Equal("docs index", body);
        Assert.Equal(0, host.AppInvocations);
    }

    [Fact]
    public async Task AppFallback_IsTheNamedLocationAtApp()
    {
        await using var host = await StartAsync(withStatic: true);

        var body = await host.Client.GetStringAsync(new Uri("/try-named/none.txt?q=1", UriKind.Relative));

        Assert.Equal("-1|@app|App|default|/try-named/none.txt", body);
    }

    [Fact]
    public async Task HandOffToAPathARegexCannotMatchInTime_Gets500()
    {
        await using var host = await StartAsync(withStatic: true);

        // "^/(a+)+$" against many a's and a mismatch at the end backtracks exponentially.
        var response = await host.Client.GetAsync(new Uri("/hand?to=/" + new string('a', 40) + "!", UriKind.Relative));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("500 Internal Server Error\n", await response.Content.ReadAsStringAsync());
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 1102);
    }

    [Fact]
    public async Task HandOffsAndTryFilesTogether_CountTowardsOneLimit()
    {
        await using var host = await StartAsync(withStatic: true);

        var response = await host.Client.GetAsync(new Uri("/hand?to=/try-loop/none", UriKind.Relative));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("10", Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 2003).Field("Limit"));
    }

    [Fact]
    public async Task ConsecutiveRequestsOnOneConnection_EachDecideForThemselves()
    {
        // Over HTTP/1.1 the X-Accel-Redirect watch is the connection's, reused by its next request.
        await using var host = await StartAsync(withStatic: true);
        using var oneConnection = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = host.Client.BaseAddress };
        var before = _upstream.Requests.Count;

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("hello world", await oneConnection.GetStringAsync(new Uri("/hand?to=/files/hello.txt", UriKind.Relative)));
            Assert.Equal("-1||App|default|/plain", await oneConnection.GetStringAsync(new Uri("/plain", UriKind.Relative)));
            Assert.Equal("upstream:GET /bucket/x length=none", await oneConnection.GetStringAsync(new Uri("/hand?to=/storage/x", UriKind.Relative)));
        }

        Assert.Equal(before + 3, _upstream.Requests.Count);
    }

    /// <summary>
    /// A host whose app hands off to <c>?to=</c> at <c>= /hand</c> (with a body to discard), and otherwise
    /// tells which pool and thread it runs on and the request it sees.
    /// </summary>
    private async Task<ServingHost> StartAsync(bool withStatic)
    {
        var root = ServingJson.Escape(_site.Root);
        var statics = !withStatic ? "" : $$"""
            { "Match": "/files/", "Internal": true, "Static": { "Alias": "{{root}}/" } },
            { "Match": "/try-proxy/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "/storage/fallback" ] } },
            { "Match": "/try-app/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "/workers/from-try" ] } },
            { "Match": "/try-query/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "/workers/q?from=try" ] } },
            { "Match": "/try-args/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "/workers/index.php?$args" ] } },
            { "Match": "/try-is-args/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "/workers/index.php$is_args$args" ] } },
            { "Match": "/php/", "Static": { "Alias": "{{root}}/php/", "Index": [ "index.php", "index.html" ] } },
            { "Match": "~ ^/php/.*\\.php$", "Internal": true, "App": { "Pool": "workers" } },
            { "Match": "= /solo/", "Static": { "Alias": "{{root}}/php/docs/" } },
            { "Match": "/try-named/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "@app" ] } },
            { "Match": "/try-loop/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "@app" ] } },
        """;
        var json = $$"""
        { "ProductionServing": { "Locations": [
            {{statics}}
            { "Match": "= /hand", "App": {} },
            { "Match": "/storage/", "Internal": true, "Proxy": { "Pass": "{{_upstream.Address}}/bucket/" } },
            { "Match": "/workers/", "Internal": true, "App": { "Pool": "workers" } },
            { "Match": "~ ^/(a+)+$", "App": {} }
        ], "Pools": { "workers": { "DedicatedThreads": true, "Workers": 1 } } } }
        """;
        return await ServingHost.StartAsync(json, afterServing: app => app.Use(App));
    }

    private static Task App(HttpContext context, Func<Task> next)
    {
        var request = context.Request;
        if (request.Path == "/hand" || request.Path.StartsWithSegments("/try-loop"))
        {
            // /try-loop falls back to the app, which hands off to /try-loop again: a loop through both.
            context.Response.Headers["X-Accel-Redirect"] = request.Path == "/hand" ? request.Query["to"].ToString() : "/try-loop/none";
            context.Response.Headers.ContentDisposition = "attachment";
            return context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("APP BODY THAT MUST NOT BE SENT")).AsTask();
        }

        var location = context.Features.Get<ServingLocation>()!;
        if (location.Pool != "workers")
        {
            return next();
        }

        return context.Response.WriteAsync(
            $"pool={location.Pool} thread={Thread.CurrentThread.Name} {request.Method} {request.Path}{request.QueryString} handler={location.Handler}");
    }
}
