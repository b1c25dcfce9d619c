using System.Text;

namespace ProductionServing.DeployBench;

/// <summary>
/// A workload: the requests a connection sends, in turn. <c>static</c> walks the asset files,
/// <c>app</c> the three endpoints (ping, work, orders POST), <c>mix</c> alternates one of each (50/50), and
/// <c>ping</c> is the trivial endpoint alone (what a request costs the two deployments when the app does nothing).
/// Requests are built once as bytes; each connection starts at its own offset so they do not all ask
/// for the same file at the same time.
/// </summary>
internal sealed class Workload
{
    public static readonly string[] Names = ["static", "app", "mix", "ping"];

    private readonly byte[][] _requests;

    private Workload(string name, byte[][] requests)
    {
        Name = name;
        _requests = requests;
    }

    public string Name { get; }

    public int Count => _requests.Length;

    public ReadOnlyMemory<byte> Request(long index) => _requests[index % _requests.Length];

    public static Workload Create(string name, IReadOnlyList<string> assetPaths, string acceptEncoding)
    {
        var files = assetPaths.Select(path => Get(path, acceptEncoding)).ToArray();
        byte[][] app = [Get("/api/ping", acceptEncoding), Get("/api/work", acceptEncoding), OrderPost(acceptEncoding)];
        return name switch
        {
            "static" => new Workload(name, files),
            "app" => new Workload(name, app),
            "ping" => new Workload(name, [app[0]]),
            // static, app, static, app...: every file and every endpoint, over files.Length * app.Length pairs.
            "mix" => new Workload(name, Enumerable.Range(0, files.Length * app.Length)
                .SelectMany(i => new[] { files[i % files.Length], app[i % app.Length] }).ToArray()),
            _ => throw new ArgumentException($"unknown workload '{name}' (static, app, mix, ping)", nameof(name)),
        };
    }

    private static byte[] Get(string path, string acceptEncoding) => Encoding.ASCII.GetBytes(
        $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: deploybench\r\nAccept: */*\r\n" +
        (acceptEncoding.Length > 0 ? $"Accept-Encoding: {acceptEncoding}\r\n" : "") + "\r\n");

    private static byte[] OrderPost(string acceptEncoding)
    {
        // An order of 20 lines, about 1.3 KB of JSON: the size of a typical form or API submission.
        var lines = string.Join(",", Enumerable.Range(1, 20).Select(i => $$"""{"sku":"SKU-{{i:D5}}","quantity":{{(i % 4) + 1}},"unitPrice":{{i * 3}}.{{i % 100:D2}}}"""));
        var body = Encoding.ASCII.GetBytes($$"""{"id":"order-0001","lines":[{{lines}}]}""");
        var head = Encoding.ASCII.GetBytes(
            $"POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: deploybench\r\nAccept: */*\r\n" +
            (acceptEncoding.Length > 0 ? $"Accept-Encoding: {acceptEncoding}\r\n" : "") +
            $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");
        return [.. head, .. body];
    }
}
