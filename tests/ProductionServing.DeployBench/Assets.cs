using System.IO.Compression;
using System.Text;

namespace ProductionServing.DeployBench;

/// <summary>
/// Writes the app's static assets: the mix a small site ships (HTML pages, stylesheets, scripts, SVG
/// icons, images, fonts), 1–64 KiB each, with <c>.br</c> and <c>.gz</c> sidecars for the text ones
/// (what a build pipeline emits for nginx's <c>gzip_static</c> and the library's <c>Precompressed</c>).
/// Deterministic: the same seed writes the same bytes, so every run serves the same files. Text is
/// drawn from a small vocabulary and compresses about as well as real markup (3–5×); images and fonts
/// are random bytes (already-compressed formats, which is why they get no sidecar).
/// </summary>
internal static class Assets
{
    // name template, count, smallest and largest size in KiB, text (gets sidecars)
    private static readonly (string Name, int Count, int MinKiB, int MaxKiB, bool Text)[] Kinds =
    [
        ("page{0}.html", 8, 2, 32, true),
        ("css/site{0}.css", 4, 4, 48, true),
        ("js/chunk{0}.js", 8, 2, 64, true),
        ("icons/icon{0}.svg", 8, 1, 12, true),
        ("img/photo{0}.jpg", 6, 16, 64, false),
        ("img/thumb{0}.png", 6, 2, 24, false),
        ("img/hero{0}.webp", 2, 32, 64, false),
        ("fonts/font{0}.woff2", 2, 20, 48, false),
    ];

    private static readonly string[] Words =
    [
        "div", "class", "container", "header", "nav", "button", "function", "return", "const", "let",
        "var", "export", "import", "default", "display", "flex", "margin", "padding", "color", "width",
        "height", "border", "radius", "font", "size", "weight", "section", "article", "footer", "item",
        "list", "grid", "column", "row", "primary", "secondary", "active", "hidden", "visible", "true",
        "false", "null", "this", "props", "state", "render", "href", "src", "alt", "title", "path",
        "fill", "stroke", "viewBox", "transform", "translate", "opacity", "transition", "hover", "focus",
    ];

    /// <summary>Writes the folder (replacing its files) and returns the request paths of the originals, index first.</summary>
    public static IReadOnlyList<string> Generate(string root)
    {
        var random = new Random(14);
        var paths = new List<string> { "/index.html" };
        WriteText(root, "index.html", 8 * 1024, random);
        foreach (var (name, count, minKiB, maxKiB, text) in Kinds)
        {
            for (var i = 0; i < count; i++)
            {
                var relative = string.Format(System.Globalization.CultureInfo.InvariantCulture, name, i + 1);
                var size = random.Next(minKiB * 1024, (maxKiB * 1024) + 1);
                if (text)
                {
                    WriteText(root, relative, size, random);
                }
                else
                {
                    var bytes = new byte[size];
                    random.NextBytes(bytes);
                    Write(root, relative, bytes);
                }

                paths.Add("/" + relative);
            }
        }

        return paths;
    }

    private static void WriteText(string root, string relative, int size, Random random)
    {
        var text = new StringBuilder(size + 32);
        while (text.Length < size)
        {
            text.Append(Words[random.Next(Words.Length)]);
            text.Append(random.Next(12) switch { 0 => "\n", 1 => "{", 2 => "}", 3 => "=\"", 4 => "\">", _ => " " });
        }

        var bytes = Encoding.ASCII.GetBytes(text.ToString(0, size));
        Write(root, relative, bytes);
        Write(root, relative + ".gz", Compress(bytes, stream => new GZipStream(stream, CompressionLevel.SmallestSize)));
        Write(root, relative + ".br", Compress(bytes, stream => new BrotliStream(stream, CompressionLevel.SmallestSize)));
    }

    private static byte[] Compress(byte[] bytes, Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream();
        using (var compressing = compressor(output))
        {
            compressing.Write(bytes);
        }

        return output.ToArray();
    }

    private static void Write(string root, string relative, byte[] bytes)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);

        // A fixed modification time: the same ETag and Last-Modified on every run.
        File.SetLastWriteTimeUtc(path, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
    }
}
