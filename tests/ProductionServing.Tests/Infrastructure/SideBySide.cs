using System.IO.Compression;
using System.Net;
using System.Text;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>One request sent to nginx and to the library alike.</summary>
/// <param name="Path">The request target.</param>
/// <param name="Method">The method.</param>
/// <param name="Body">A request body, or null.</param>
/// <param name="AcceptEncoding">An Accept-Encoding header, or null for none.</param>
/// <param name="Headers">Response headers to compare besides <see cref="SideBySide.Compared"/>.</param>
internal sealed record Probe(string Path, string Method = "GET", string? Body = null, string? AcceptEncoding = null, params string[] Headers)
{
    /// <summary>Whether the bodies are compared (not for pages each server renders its own way: an autoindex listing).</summary>
    public bool CompareBody { get; init; } = true;

    public override string ToString() => $"{Method} {Path}" + (AcceptEncoding is null ? "" : $" (Accept-Encoding: {AcceptEncoding})");
}

/// <summary>
/// Sends the same requests to nginx and to the library and compares what a client sees: the status, and for every
/// answer that is not an error, the response headers that carry meaning and the body (decoded when compressed: the
/// two compress at different levels). Error answers are compared by status only: nginx's error pages are HTML and
/// the library's plain text, and nginx's add_header without "always" skips them where Headers does not.
/// </summary>
internal static class SideBySide
{
    /// <summary>Headers compared on every response.</summary>
    public static readonly string[] Compared =
        ["Content-Type", "Cache-Control", "Location", "Content-Encoding", "Last-Modified", "ETag"];

    public static HttpClient Client(int port) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TestTimeouts.Wait,
        };

    /// <summary>Sends each probe to both and returns every difference, one line each (empty when they answer alike).</summary>
    public static async Task<List<string>> CompareAsync(HttpClient nginx, HttpClient library, IEnumerable<Probe> probes)
    {
        var differences = new List<string>();
        foreach (var probe in probes)
        {
            var (expected, actual) = (await SendAsync(nginx, probe), await SendAsync(library, probe));
            if (expected.Status != actual.Status)
            {
                differences.Add($"{probe}: status nginx {expected.Status}, library {actual.Status} ({Excerpt(actual.Body)})");
                continue;
            }

            if (expected.Status >= 400)
            {
                continue;
            }

            // A redirect's body and its type are each server's own page (nginx writes HTML, the library nothing), and
            // so is a listing; what they say is in Location and the other headers.
            var ownPage = expected.Status is >= 300 and < 400 || !probe.CompareBody;
            foreach (var name in Compared.Concat(probe.Headers))
            {
                if (ownPage && name == "Content-Type")
                {
                    continue;
                }

                var (a, b) = (Comparable(name, expected.Header(name)), Comparable(name, actual.Header(name)));
                if (a != b)
                {
                    differences.Add($"{probe}: {name} nginx [{a}], library [{b}]");
                }
            }

            if (!ownPage && !expected.Body.AsSpan().SequenceEqual(actual.Body))
            {
                differences.Add($"{probe}: body nginx [{Excerpt(expected.Body)}], library [{Excerpt(actual.Body)}]");
            }
        }

        return differences;
    }

    /// <summary>
    /// A header's value as far as the two must agree: an ETag's presence, not its opaque value (nginx writes the
    /// modification time in seconds, the library finer; nginx weakens the tag of what it compresses on the fly, the
    /// library compresses a cached file once and gives those bytes a strong tag of their own, docs/directives.md); and
    /// a Location on the server itself as its path (nginx makes it absolute, the library sends it as written, which
    /// RFC 9110 §10.2.2 allows); and JavaScript's one media type under either
    /// name (nginx's mime.types still says application/javascript, which RFC 9239 made obsolete for text/javascript).
    /// </summary>
    private static string? Comparable(string name, string? value) => name switch
    {
        "ETag" when value is not null => "present",
        "Location" when value is not null && Uri.TryCreate(value, UriKind.Absolute, out var target) && target.Host == "127.0.0.1" => target.PathAndQuery,
        "Content-Type" when value is not null => value.Replace("application/javascript", "text/javascript", StringComparison.Ordinal),
        _ => value,
    };

    private static string Excerpt(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        return text.Length <= 120 ? text : text[..120] + "…";
    }

    private static async Task<Answer> SendAsync(HttpClient client, Probe probe)
    {
        using var request = new HttpRequestMessage(new HttpMethod(probe.Method), probe.Path);
        if (probe.Body is not null)
        {
            request.Content = new StringContent(probe.Body, Encoding.UTF8, "application/json");
        }

        if (probe.AcceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", probe.AcceptEncoding);
        }

        using var response = await client.SendAsync(request);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            headers[name] = string.Join(", ", values);
        }

        var body = await response.Content.ReadAsByteArrayAsync();
        return new Answer((int)response.StatusCode, headers, Decode(body, headers.GetValueOrDefault("Content-Encoding")));
    }

    private static byte[] Decode(byte[] body, string? coding)
    {
        using Stream? decoder = coding switch
        {
            "gzip" => new GZipStream(new MemoryStream(body), CompressionMode.Decompress),
            "br" => new BrotliStream(new MemoryStream(body), CompressionMode.Decompress),
            _ => null,
        };
        if (decoder is null)
        {
            return body;
        }

        using var decoded = new MemoryStream();
        decoder.CopyTo(decoded);
        return decoded.ToArray();
    }

    private sealed record Answer(int Status, Dictionary<string, string> Headers, byte[] Body)
    {
        public string? Header(string name) => Headers.GetValueOrDefault(name);
    }
}
