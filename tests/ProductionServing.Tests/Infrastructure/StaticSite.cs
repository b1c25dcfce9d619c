using System.Security.Cryptography;
using System.Text;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A folder tree for static file tests, in its own temporary directory:
/// <c>site/</c> is the root served, and <c>secret.txt</c> beside it must never be served.
/// </summary>
internal sealed class StaticSite : IDisposable
{
    public const string Secret = "TOP-SECRET-DO-NOT-SERVE";

    public StaticSite()
    {
        Folder = Directory.CreateTempSubdirectory("ps-static-").FullName;
        Root = Path.Combine(Folder, "site");
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Folder, "secret.txt"), Secret);
        Write("hello.txt", "hello world");
        Write("index.html", "<h1>home</h1>");
        Write("docs/index.html", "<h1>docs</h1>");
        Write("docs/guide.html", "<h1>guide</h1>");
        Write("empty/.keep", "");
        Write("list/a.txt", "a");
        Write("list/b c&<d>.txt", "b");
        Write("list/sub/x.txt", "x");
        Write("list/.hidden", "h");
        Write("list/test-colon:blah", "");
        Write("list/test-escape-url-%", "");
        Write("list/test-escape-url2-?", "");
        File.CreateSymbolicLink(Path.Combine(Root, "list", "escape.txt"), Path.Combine(Folder, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(Root, "list", "inside.txt"), "a.txt");
        Write(".env", "SECRET=1");
        Write(".git/config", "[core]");
        Write(".hidden/data/x.json", "{}");
        Write("unknown.xyz", "???");
        Write("app.js", "console.log('identity');");
        Write("app.js.gz", "GZIP-BYTES");
        Write("app.js.br", "BROTLI-BYTES");
        Write("gzonly.css", "body{}");
        Write("gzonly.css.gz", "GZ-CSS");
        Small = RandomBytes("data.bin", 1024, seed: 1);
        Large = RandomBytes("large.bin", 300 * 1024, seed: 2);
        File.CreateSymbolicLink(Path.Combine(Root, "link-out.txt"), Path.Combine(Folder, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "dir-out"), Folder);
        File.CreateSymbolicLink(Path.Combine(Root, "link-in.txt"), "hello.txt");

        // "x/../secret.txt" read textually stays inside the root (root/secret.txt); the kernel resolves
        // x first (to Folder/deep), so ".." is Folder and the file is the secret outside.
        Directory.CreateDirectory(Path.Combine(Folder, "deep"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "x"), Path.Combine(Folder, "deep"));
        File.CreateSymbolicLink(Path.Combine(Root, "evil.txt"), "x/../secret.txt");

        // A precompressed sidecar that is a link out of the root.
        Write("sidecar.txt", "plain sidecar");
        File.CreateSymbolicLink(Path.Combine(Root, "sidecar.txt.gz"), Path.Combine(Folder, "secret.txt"));
        Write("../pub/readme.txt", "public readme");
    }

    /// <summary>The temporary folder holding the root and the secret.</summary>
    public string Folder { get; }

    /// <summary>The folder served.</summary>
    public string Root { get; }

    /// <summary>data.bin: 1 KiB, cached in memory.</summary>
    public byte[] Small { get; }

    /// <summary>large.bin: 300 KiB, above the 64 KiB cache limit, streamed from disk.</summary>
    public byte[] Large { get; }

    public string Path_(string relative) => Path.Combine(Root, relative);

    public void Write(string relative, string text) => Write(relative, Encoding.UTF8.GetBytes(text));

    public void Write(string relative, byte[] bytes)
    {
        var path = Path.GetFullPath(Path.Combine(Root, relative));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    public byte[] RandomBytes(string relative, int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        Write(relative, bytes);
        return bytes;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    /// <summary>Runs a file tool (<c>ln</c>, <c>mv</c>: hard links and atomic renames, which .NET has no call for) and checks that it succeeded.</summary>
    public static async Task RunAsync(string command, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(command, arguments);
        await process.WaitForExitAsync().WaitAsync(TestTimeouts.Wait);
        Assert.Equal(0, process.ExitCode);
    }

    /// <summary>
    /// Rewrites the file at <paramref name="path"/> in place with random bytes of the same length and
    /// moves its modification time on: through a hard link in the root, a change the folder's watch
    /// cannot see (the file's own folder is outside the watched tree).
    /// </summary>
    /// <returns>The new content.</returns>
    public static byte[] RewriteInPlace(string path, int seed)
    {
        var after = new byte[new FileInfo(path).Length];
        new Random(seed).NextBytes(after);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.Write(after);
        }

        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(5));
        return after;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }
}
