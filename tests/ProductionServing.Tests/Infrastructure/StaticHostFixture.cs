using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A <see cref="StaticSite"/> served by ProductionServing on real Kestrel, with one location per
/// feature under test, and an app endpoint (<c>= /download</c>) that authorizes and hands off with
/// <c>X-Accel-Redirect</c>.
/// </summary>
public sealed class StaticHostFixture : IAsyncLifetime
{
    private static readonly int[] JsonItems = [1, 2, 3];

    internal StaticSite Site { get; } = new();

    internal ServingHost Host { get; private set; } = null!;

    public HttpClient Client => Host.Client;

    public async Task InitializeAsync()
    {
        var root = ServingJson.Escape(Site.Root);
        var folder = ServingJson.Escape(Site.Folder);
        var json = $$"""
        { "ProductionServing": { "Locations": [
            { "Match": "/", "Static": { "Root": "{{root}}", "CacheControl": "public, max-age=60" } },
            { "Match": "/auto/", "Static": { "Alias": "{{root}}/list/", "AutoIndex": true } },
            { "Match": "/files", "Static": { "Alias": "{{folder}}/pub/" } },
            { "Match": "/pubfiles", "Static": { "Alias": "{{folder}}/pub/", "AllowHiddenFiles": true } },
            { "Match": "/hidden-ok/", "Static": { "Alias": "{{root}}/", "AllowHiddenFiles": true } },
            { "Match": "/spa/", "Static": { "Alias": "{{root}}/docs/", "TryFiles": [ "$uri", "$uri/", "/spa/index.html" ] } },
            { "Match": "/try/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "$uri/", "@app" ] } },
            { "Match": "/code/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "=410" ] } },
            { "Match": "/ff/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "/hello.txt", "=404" ] } },
            { "Match": "/fd/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "/hello.txt/", "=404" ] } },
            { "Match": "/dd/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "/docs/", "=404" ] } },
            { "Match": "/ap/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "/ap/hello.txt", "=404" ] } },
            { "Match": "/pretty/", "Static": { "Alias": "{{root}}/docs/", "TryFiles": [ "$uri", "$uri.html", "/pretty/index.html", "=404" ] } },
            { "Match": "/loop/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "/loop/again" ] } },
            { "Match": "/protected/", "Internal": true, "Static": { "Alias": "{{root}}/" } },
            { "Match": "/fallback/", "Static": { "Alias": "{{root}}/", "TryFiles": [ "$uri", "/protected/hello.txt" ] } },
            { "Match": "/typed/", "Static": { "Alias": "{{root}}/", "DefaultContentType": "text/x-custom", "Precompressed": false } },
            { "Match": "/noindex/", "Static": { "Alias": "{{root}}/docs/", "Index": [] } },
            { "Match": "= /download", "App": {} },
            { "Match": "= /loopback", "App": {} },
            { "Match": "= /json", "App": {} },
            { "Match": "= /sendfile", "App": {} },
            { "Match": "= /download-on-worker", "App": { "Pool": "workers" } }
        ], "Pools": { "workers": { "DedicatedThreads": true, "Workers": 2 } } } }
        """;
        Host = await ServingHost.StartAsync(json, afterServing: app => app.Use(Download));
    }

    /// <summary>A GET with extra request headers, sent without client-side validation of their values.</summary>
    public Task<HttpResponseMessage> GetAsync(string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return Client.SendAsync(request);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Site.Dispose();
    }

    /// <summary>The app's side of X-Accel-Redirect: check the caller, then hand the file to the static location.</summary>
    private Task Download(HttpContext context, Func<Task> next)
    {
        if (context.Request.Path == "/json")
        {
            // App responses written by System.Text.Json through the PipeWriter still work with the handoff wrapper.
            return context.Response.WriteAsJsonAsync(new { ok = true, items = JsonItems });
        }

        if (context.Request.Path == "/sendfile")
        {
            // …and so do responses sent with SendFileAsync.
            return context.Response.SendFileAsync(Site.Path_("hello.txt"));
        }

        if (context.Request.Path == "/loopback" || context.Request.Path == "/try/loopback")
        {
            // Hands off to a location whose TryFiles falls back to the app (which sees the handoff's path,
            // as nginx's named location does), which hands off again…
            context.Response.Headers["X-Accel-Redirect"] = "/try/loopback";
            return Task.CompletedTask;
        }

        if (context.Request.Path != "/download" && context.Request.Path != "/download-on-worker")
        {
            return next();
        }

        if (context.Request.Query["token"] != "let-me-in")
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return context.Response.WriteAsync("forbidden");
        }

        var file = context.Request.Query["file"].ToString();
        context.Response.Headers["X-Accel-Redirect"] = "/protected/" + file;
        context.Response.Headers.ContentDisposition = "attachment; filename=\"" + file + "\"";
        context.Response.ContentType = "text/plain";
        if (context.Request.Query["private"] == "1")
        {
            context.Response.Headers.CacheControl = "private, no-store";
        }


        // A body the handoff must discard.
        return context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("APP BODY THAT MUST NOT BE SENT")).AsTask();
    }
}
