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

    /// <param name="echoHost">Whether the backends tell the Host they got: only where the configuration sets it (nginx
    /// sends an upstream group's name by default, the library the server's address).</param>
    private async Task CompareAsync(string corpus, string root, int backends, bool echoHost, string[] leftovers, Probe[] probes)
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

            // nginx's temporary folders in the test's own (the importer needs nothing of them), on the http line so
            // that the lines keep their numbers.
            var http = text.IndexOf("http {", StringComparison.Ordinal) + "http {".Length;
            text = text[..http] + $" include {_folder.Write("temp-paths.conf", NginxProcess.TempPaths(prefix))};" + text[http..];
            var config = _folder.Write(corpus, text);

            var result = NginxImporter.Import(NginxConfigLoader.Load(config), config, new ImportSettings());
            Assert.Equal(leftovers, result.Leftovers.Select(l => $"{l.Position.Line}: {l.Directive.Split(' ')[0]}"));
            result.IsValidConfiguration();

            await using var nginx = await NginxProcess.StartAsync(config, prefix, port);
            await using var library = await ServingHost.StartAsync(result.Document.ToJsonString(), contentRoot: _folder.Path);
            using var nginxClient = SideBySide.Client(port);
            using var libraryClient = SideBySide.Client(library.Port);

            var differences = await SideBySide.CompareAsync(nginxClient, libraryClient, probes);

            Assert.True(differences.Count == 0, string.Join('\n', differences) + "\nconverted:\n" + result.Document.ToJsonString());
        }
        finally
        {
            foreach (var upstream in upstreams)
            {
                await upstream.DisposeAsync();
            }
        }
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
