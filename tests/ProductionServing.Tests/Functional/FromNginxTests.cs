extern alias FromNginx;

using System.Globalization;
using System.Text.Json.Nodes;
using ProductionServing.Tests.Import;
using ProductionServing.Tests.Infrastructure;
using FromNginxProgram = FromNginx::Program;

namespace ProductionServing.Tests.Functional;

/// <summary>
/// samples/FromNginx, the migration guide in executable form: its appsettings.json is what the importer makes of
/// its nginx.conf, and nginx in front of the app answers as the app alone does.
/// </summary>
public sealed class FromNginxTests(SampleHost<FromNginxProgram> sample) : IClassFixture<SampleHost<FromNginxProgram>>, IDisposable
{
    private static readonly string Folder = Path.Combine(Repository.Root, "samples", "FromNginx");
    private readonly string _prefix = Directory.CreateTempSubdirectory("ps-fromnginx-").FullName;

    public void Dispose() => Directory.Delete(_prefix, recursive: true);

    [Fact]
    public void AppSettings_IsWhatTheImporterMakesOfNginxConf()
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var nginxConf = Path.Combine(Folder, "nginx.conf");

        var code = ProductionServing.Import.Program.Run(["--app", "app", nginxConf], output, errors);

        Assert.Equal(1, code);
        var imported = JsonNode.Parse(output.ToString())!["ProductionServing"];
        var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "appsettings.json")))!;
        imported.Is(settings["ProductionServing"]!.ToJsonString());
        Assert.Equal("http://localhost:8080", (string?)settings["Urls"]);

        // What the README says is left over, and nothing else.
        var readme = File.ReadAllText(Path.Combine(Folder, "README.md"));
        var leftovers = errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[1..];
        Assert.Equal(2, leftovers.Length);
        foreach (var line in leftovers)
        {
            Assert.Contains(line.Replace(nginxConf, "samples/FromNginx/nginx.conf", StringComparison.Ordinal), readme, StringComparison.Ordinal);
        }
    }

    [NginxFact]
    public async Task NginxInFrontOfTheApp_AndTheAppAlone_AnswerAlike()
    {
        // nginx as nginx.conf deploys it, in front of the app, with its port, folder and the app's address here. The app
        // behind it is the sample too, with its own rate limit out of the way: there nginx's limits the requests
        // (and the client address both see is the same loopback one).
        var locations = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "appsettings.json")))!["ProductionServing"]!["Locations"]!.AsArray();
        var login = locations.IndexOf(locations.First(location => (string?)location!["Match"] == "= /login"));
        await using var behindNginx = new SampleHost<FromNginxProgram>(new Dictionary<string, string?>
        {
            [$"ProductionServing:Locations:{login}:RateLimit:Rate"] = "1000r/s",
        });
        var port = NginxProcess.FreePort();
        var text = File.ReadAllText(Path.Combine(Folder, "nginx.conf"))
            .Replace("listen 8080;", $"listen 127.0.0.1:{port};", StringComparison.Ordinal)
            .Replace("root wwwroot;", $"root {Path.Combine(Folder, "wwwroot")};", StringComparison.Ordinal)
            .Replace("server 127.0.0.1:5000;", $"server 127.0.0.1:{behindNginx.Address.Port.ToString(CultureInfo.InvariantCulture)};", StringComparison.Ordinal);
        var config = Path.Combine(_prefix, "nginx.conf");
        File.WriteAllText(config, NginxProcess.WithTempPaths(text, _prefix));
        await using var nginx = await NginxProcess.StartAsync(config, _prefix, port);
        using var nginxClient = SideBySide.Client(port);
        using var appClient = SideBySide.Client(sample.Address.Port);

        var differences = await SideBySide.CompareAsync(nginxClient, appClient,
        [
            new Probe("/", Headers: ["X-Content-Type-Options"]),
            new Probe("/", AcceptEncoding: "gzip"),
            new Probe("/robots.txt"),
            new Probe("/assets/site.css", Headers: ["X-Content-Type-Options"]),
            new Probe("/assets/shop.js", AcceptEncoding: "gzip"),
            new Probe("/assets/missing.css"),
            new Probe("/account"),
            new Probe("/api/products"),
            new Probe("/api/products", AcceptEncoding: "gzip"),
            new Probe("/api/products/2"),
            new Probe("/api/products/9"),
            new Probe("/api/orders", "POST", """{"productId":2,"quantity":1}"""),
            new Probe("/api/orders", "POST", """{"productId":7,"quantity":1}"""),
            new Probe("/api/orders", "POST", new string(' ', 20_000)),
            new Probe("/healthz"),
            new Probe("/.env"),
            new Probe("/login", "POST"),
            new Probe("/login", "POST"),
            new Probe("/login", "POST"),
            new Probe("/login", "POST"),
        ]);

        Assert.True(differences.Count == 0, string.Join('\n', differences));
    }
}
