using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Tests.Import;

/// <summary>include, resolved as nginx resolves it: from the main file's folder, patterns in name order.</summary>
public sealed class NginxConfigLoaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ps-import-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Includes_AreReadInPlace_PatternsInNameOrder_WithTheirOwnFileNames()
    {
        Write("conf.d/b.conf", "server { listen 81; }");
        Write("conf.d/a.conf", "server { listen 80; }");
        Write("conf.d/.hidden.conf", "server { listen 99; }");
        Write("conf.d/notes.txt", "not a config");
        Write("mime.types", "types { text/html html; }");
        var main = Write("nginx.conf", "http {\n    include mime.types;\n    include conf.d/*.conf;\n    include none.d/*.conf;\n}\n");

        var http = Assert.Single(NginxConfigLoader.Load(main));

        Assert.Equal(["types", "server", "server"], http.Block!.Select(d => d.Name));
        Assert.Equal(["80"], http.Block![1].Block![0].Arguments);
        Assert.Equal(["81"], http.Block![2].Block![0].Arguments);
        Assert.Equal(new SourcePosition(Path.Combine(_folder, "conf.d", "b.conf"), 1, 10), http.Block![2].Block![0].Position);
    }

    [Fact]
    public void MissingFile_IsAnError_AtTheInclude()
    {
        var main = Write("nginx.conf", "http {\n    include sites/app.conf;\n}\n");

        var error = Assert.Throws<NginxConfigException>(() => NginxConfigLoader.Load(main));

        Assert.Equal(new SourcePosition(main, 2, 5), error.Position);
        Assert.Contains("does not exist", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedIncludedFile_IsReported_WithItsOwnLine()
    {
        Write("broken.conf", "listen 80;\nlisten 81\n");
        var main = Write("nginx.conf", "server { include broken.conf; }");

        var error = Assert.Throws<NginxConfigException>(() => NginxConfigLoader.Load(main));

        Assert.Equal(Path.Combine(_folder, "broken.conf") + ":3:1: unexpected end of file, expecting \";\" or \"}\"", error.Message);
    }

    [Fact]
    public void FileThatIncludesItself_IsAnError_NotALoop()
    {
        var main = Write("nginx.conf", "include nginx.conf;");

        var error = Assert.Throws<NginxConfigException>(() => NginxConfigLoader.Load(main));

        Assert.Contains("does a file include itself?", error.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("include;", "\"include\" takes one file or pattern")]
    [InlineData("include a.conf b.conf;", "\"include\" takes one file or pattern")]
    [InlineData("include */x.conf;", "include \"*/x.conf\": patterns are read in the file name only, with * and ?")]
    public void MalformedInclude_IsAnError(string text, string problem)
    {
        var main = Write("nginx.conf", text);

        var error = Assert.Throws<NginxConfigException>(() => NginxConfigLoader.Load(main));

        Assert.Equal(problem, error.Problem);
    }

    [Fact]
    public void UnreadableMainFile_IsAnError_NamingIt()
    {
        var missing = Path.Combine(_folder, "missing.conf");

        var error = Assert.Throws<NginxConfigException>(() => NginxConfigLoader.Load(missing));

        Assert.StartsWith(missing + ":1:1: cannot be read", error.Message, StringComparison.Ordinal);
    }

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}
