using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ProductionServing.Import.Conversion;
using ProductionServing.Import.NginxConfig;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Import;

/// <summary>
/// The importer on configurations shaped like common deployments (Import/Corpus): each is run by nginx, converted,
/// run by the library, and both get the same requests and must answer alike (status, the headers that carry
/// meaning, bodies). What the importer reports as not carried over is part of each case.
/// </summary>
public sealed class CorpusTests : IDisposable
{
    private readonly ImportFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [NginxFact]
    public async Task SpaWithApi()
    {
        var root = Site(("index.html", "<!doctype html><title>App</title><div id=app></div><script src=/assets/app.3f9c2a1b.js></script>"),
            ("assets/app.3f9c2a1b.js", "const app = document.getElementById('app');\n" + string.Concat(Enumerable.Repeat("app.append('rendered by the bundle');\n", 20))),
            ("assets/site.5d41402a.css", "body { margin: 0; font: 16px/1.5 system-ui, sans-serif; }\n"),
            ("favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1'><rect width='1' height='1'/></svg>"));

        await CompareAsync("spa-api.conf", root, backends: 1, echoHost: false,
            [
                "26: listen",
            ],
            [
                new Probe("/", Headers: ["X-Frame-Options", "X-Content-Type-Options"]),
                new Probe("/todos/42", Headers: ["X-Frame-Options"]),
                new Probe("/favicon.svg"),
                new Probe("/assets/app.3f9c2a1b.js", Headers: ["X-Frame-Options"]),
                new Probe("/assets/app.3f9c2a1b.js", AcceptEncoding: "gzip"),
                new Probe("/assets/site.5d41402a.css", AcceptEncoding: "gzip"),
                new Probe("/assets/missing.js"),
                new Probe("/api/todos?done=false"),
                new Probe("/api/todos", "POST", "{\"title\":\"write tests\"}"),
                new Probe("/api/todos", "POST", new string('x', 2000)),
                new Probe("/healthz"),
                new Probe("/", "HEAD"),
            ]);
    }

    [NginxFact]
    public async Task WordPressStylePhpUpstream()
    {
        var root = Site(("index.php", "<?php require 'wp-blog-header.php'; // source, never sent"),
            ("wp-login.php", "<?php // login source"),
            ("readme.html", "<!doctype html><title>ReadMe</title>"),
            (".htaccess", "Deny from all"),
            ("wp-content/themes/plain/style.css", "body { color: #222; }"),
            ("wp-content/uploads/logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>"),
            ("wp-admin/index.php", "<?php // admin"));

        await CompareAsync("wordpress.conf", root, backends: 1, echoHost: true,
            [
                "18: listen",
            ],
            [
                new Probe("/"),
                new Probe("/?p=12"),
                new Probe("/2026/12/hello-world/"),
                new Probe("/2026/12/hello-world/?replytocom=3"),
                new Probe("/readme.html"),
                new Probe("/wp-content/themes/plain/style.css"),
                new Probe("/wp-content/uploads/logo.svg"),
                new Probe("/wp-content/uploads/missing.png"),
                new Probe("/.htaccess"),
                new Probe("/wp-admin/"),
                new Probe("/xmlrpc.php", "POST", "<methodCall/>"),
                new Probe("/wp-comments-post.php", "POST", new string('c', 3_000_000)),
                new Probe("/wp-login.php"),
                new Probe("/wp-login.php"),
                new Probe("/wp-login.php"),
            ]);
    }

    [NginxFact]
    public async Task StaticSiteWithCaching()
    {
        var root = Site(("public/index.html", "<!doctype html><title>Home</title>"),
            ("public/about.html", "<!doctype html><title>About</title>"),
            ("public/docs/index.html", "<!doctype html><title>Docs</title>"),
            ("public/css/site.css", "body { margin: 0 auto; max-width: 40em; }\n"),
            ("public/js/app.js", "console.log('static');\n"),
            ("files/data.csv", "a,b\n1,2\n"),
            ("files/notes.txt", "notes"));
        var css = Path.Combine(root, "public/css/site.css");
        using (var gz = new System.IO.Compression.GZipStream(File.Create(css + ".gz"), System.IO.Compression.CompressionLevel.SmallestSize))
        {
            gz.Write(File.ReadAllBytes(css));
        }

        await CompareAsync("static-site.conf", root, backends: 0, echoHost: false,
            [
                "12: listen",
            ],
            [
                new Probe("/", Headers: ["X-Content-Type-Options", "Referrer-Policy"]),
                new Probe("/about", Headers: ["X-Content-Type-Options"]),
                new Probe("/docs"),
                new Probe("/docs/"),
                new Probe("/css/site.css", Headers: ["X-Content-Type-Options", "Referrer-Policy"]),
                new Probe("/css/site.css", AcceptEncoding: "gzip"),
                new Probe("/js/app.js"),
                new Probe("/missing"),
                new Probe("/downloads/notes.txt", Headers: ["X-Area", "X-Content-Type-Options"]),
                new Probe("/downloads/", Headers: ["X-Area"]) { CompareBody = false },
                new Probe("/blog/2024/hello-world"),
                new Probe("/old-home"),
                new Probe("/about.html", "POST", "x"),
            ]);
    }

    [NginxFact]
    public async Task LoadBalancedApi()
    {
        await CompareAsync("load-balanced-api.conf", _folder.Path, backends: 2, echoHost: true,
            [
                "12: listen",
            ],
            [
                new Probe("/users/1?fields=name"),
                new Probe("/v1/users"),
                new Probe("/health"),
                new Probe("/internal/stats"),
                new Probe("/orders", "POST", "{\"sku\":\"A-1\"}"),
                new Probe("/orders", "POST", new string('o', 100_000)),
                new Probe("/users/1", "DELETE"),
            ],
            then: async (backends, nginx, library) =>
            {
                // weight=2 against 1: both send two of every three requests to the first server.
                var (fromNginx, fromLibrary) = (await SpreadAsync(backends, nginx), await SpreadAsync(backends, library));
                Assert.Equal("4 2", string.Join(' ', fromNginx));
                Assert.Equal("4 2", string.Join(' ', fromLibrary));
            });
    }

    /// <param name="echoHost">Whether the backends tell the Host they got: only where the configuration sets it (nginx
    /// sends an upstream group's name by default, the library the server's address).</param>
    /// <param name="then">More checks with the backends and both clients (nginx's, then the library's).</param>
    private async Task CompareAsync(string corpus, string root, int backends, bool echoHost, string[] leftovers, Probe[] probes,
        Func<List<UpstreamHost>, HttpClient, HttpClient, Task>? then = null)
    {
        var upstreams = new List<UpstreamHost>();
        try
        {
            for (var i = 0; i < backends; i++)
            {
                upstreams.Add(await UpstreamHost.StartAsync(context => EchoAsync(context, echoHost)));
            }

            var port = NginxProcess.FreePort();
            var prefix = Directory.CreateDirectory(Path.Combine(_folder.Path, "nginx")).FullName;
            var text = File.ReadAllText(Path.Combine(Repository.Root, "tests/ProductionServing.Tests/Import/Corpus", corpus))
                .Replace("{{port}}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{{root}}", root, StringComparison.Ordinal);
            for (var i = 0; i < backends; i++)
            {
                text = text.Replace($"{{{{backend{i + 1}}}}}", upstreams[i].Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            }

            var config = _folder.Write(corpus, NginxProcess.WithTempPaths(text, prefix));

            var result = NginxImporter.Import(NginxConfigLoader.Load(config), config, new ImportSettings());
            Assert.Equal(leftovers, result.Leftovers.Select(l => $"{l.Position.Line}: {l.Directive.Split(' ')[0]}"));
            result.IsValidConfiguration();

            await using var nginx = await NginxProcess.StartAsync(config, prefix, port);
            await using var library = await ServingHost.StartAsync(result.Document.ToJsonString(), contentRoot: _folder.Path);
            using var nginxClient = SideBySide.Client(port);
            using var libraryClient = SideBySide.Client(library.Port);

            var differences = await SideBySide.CompareAsync(nginxClient, libraryClient, probes);

            Assert.True(differences.Count == 0, string.Join('\n', differences) + "\nconverted:\n" + result.Document.ToJsonString());
            if (then is not null)
            {
                await then(upstreams, nginxClient, libraryClient);
            }
        }
        finally
        {
            foreach (var upstream in upstreams)
            {
                await upstream.DisposeAsync();
            }
        }
    }

    private static async Task<int[]> SpreadAsync(List<UpstreamHost> backends, HttpClient client)
    {
        backends.ForEach(backend => backend.Requests.Clear());
        for (var i = 0; i < 6; i++)
        {
            (await client.GetAsync(new Uri("/spread", UriKind.Relative))).EnsureSuccessStatusCode();
        }

        return [.. backends.Select(backend => backend.Requests.Count)];
    }

    /// <summary>Writes the site's files under the folder's site/ and returns its path.</summary>
    private string Site(params (string Path, string Text)[] files)
    {
        foreach (var (path, text) in files)
        {
            _folder.Write("site/" + path, text);
        }

        return Path.Combine(_folder.Path, "site");
    }

    /// <summary>The backends answer with what they received: what nginx and the library forwarded must match.</summary>
    private static async Task EchoAsync(HttpContext context, bool echoHost)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        var headers = request.Headers;
        var echo = $"{request.Method} {context.Features.Get<IHttpRequestFeature>()!.RawTarget} host={(echoHost ? headers.Host : "")} real-ip={headers["X-Real-IP"]} " +
            $"request-id-length={headers["X-Request-Id"].ToString().Length} body={body.Length}";
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(echo, Encoding.UTF8);
    }
}
