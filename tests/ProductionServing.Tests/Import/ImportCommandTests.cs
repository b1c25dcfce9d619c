using System.Text.Json.Nodes;

namespace ProductionServing.Tests.Import;

/// <summary>
/// productionserving-import as a command: the JSON on standard output or in -o FILE, what was left out on
/// standard error, and the exit code (0 all carried over, 1 something left out, 2 an error, never a stack trace).
/// </summary>
public sealed class ImportCommandTests : IDisposable
{
    private readonly ImportFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void EverythingCarriedOver_ExitsZero_WithTheSectionOnStandardOutput()
    {
        var file = _folder.Write("site.conf", "server { server_name site.test; root /srv; gzip_static on; location / { } }");

        var (code, output, errors) = Run(file);

        Assert.Equal(0, code);
        JsonNode.Parse(output)!["ProductionServing"]!["Locations"].Is("""[ { "Match": "/", "Static": { "Root": "/srv" } } ]""");
        Assert.Equal($"productionserving-import: converted server site.test from {file}; everything was carried over.", errors.Trim());
    }

    [Fact]
    public void SomethingLeftOut_ExitsOne_ListingItOnStandardError()
    {
        var file = _folder.Write("site.conf", "server {\n    listen 8080;\n    root /srv;\n    gzip_static on;\n    location / { }\n}\n");

        var (code, output, errors) = Run(file);

        Assert.Equal(1, code);
        Assert.NotNull(JsonNode.Parse(output));
        Assert.Equal(
            $"productionserving-import: converted the server block from {file}; not carried over (1):\n{file}:2: listen 8080: Kestrel's endpoints: ASPNETCORE_URLS or the Kestrel:Endpoints section",
            errors.Trim().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void OutputFile_GetsTheJson_AndStandardOutputNothing()
    {
        var file = _folder.Write("site.conf", "server { root /srv; location / { } }");
        var json = Path.Combine(_folder.Path, "appsettings.json");

        var (code, output, _) = Run("-o", json, file);

        Assert.Equal(0, code);
        Assert.Equal("", output);
        Assert.Equal("/srv", (string?)JsonNode.Parse(File.ReadAllText(json))!["ProductionServing"]!["Locations"]![0]!["Static"]!["Root"]);
    }

    [Fact]
    public void ServerOption_ChoosesTheBlock()
    {
        var file = _folder.Write("nginx.conf", """
            http {
                server { server_name a.test; root /a; gzip_static on; location / { } location /x/ { } }
                server { server_name b.test; root /b; gzip_static on; location / { } }
            }
            """);

        var (code, output, errors) = Run("--server", "b.test", file);

        Assert.Equal(1, code);
        Assert.Equal("/b", (string?)JsonNode.Parse(output)!["ProductionServing"]!["Locations"]![0]!["Static"]!["Root"]);
        Assert.Contains($"{file}:2: server: another virtual server; one app is one server here: convert it on its own with --server a.test", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server { location / { root /srv }", ":1:33: unexpected \"}\"")]
    [InlineData("server { location / {", ":1:22: unexpected end of file, expecting \"}\" to close the block opened at line 1")]
    [InlineData("events { }", ":1:1: has no http or server block to convert")]
    public void AMalformedConfiguration_ExitsTwo_NamingFileLineAndColumn(string config, string problem)
    {
        var file = _folder.Write("bad.conf", config);

        var (code, output, errors) = Run(file);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal($"productionserving-import: {file}{problem}", errors.Trim());
    }

    [Fact]
    public void BlocksNestedBeyondReason_AreAnError_NotAStackOverflow()
    {
        var file = _folder.Write("deep.conf", string.Concat(Enumerable.Repeat("a {", 50_000)));

        var (code, _, errors) = Run(file);

        Assert.Equal(2, code);
        Assert.Equal($"productionserving-import: {file}:1:195: blocks nest deeper than 64 levels", errors.Trim());
    }

    [Fact]
    public void AnEmptyFileName_ExitsTwo()
    {
        Assert.Equal(2, Run("").Code);
    }

    [Theory]
    [InlineData(new string[0], "name the nginx configuration to convert.")]
    [InlineData(new[] { "--server" }, "--server needs a value.")]
    [InlineData(new[] { "--bogus", "x.conf" }, "unknown option --bogus.")]
    [InlineData(new[] { "a.conf", "b.conf" }, "one configuration file at a time (a.conf, then b.conf).")]
    public void BadArguments_ExitTwo_WithTheUsage(string[] args, string problem)
    {
        var (code, output, errors) = Run(args);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("productionserving-import: " + problem, errors, StringComparison.Ordinal);
        Assert.Contains("Usage: productionserving-import", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingFileOrServerName_ExitsTwo()
    {
        var missing = Path.Combine(_folder.Path, "none.conf");
        var file = _folder.Write("site.conf", "server { server_name a.test; root /srv; location / { } }");

        Assert.Equal(2, Run(missing).Code);
        var (code, _, errors) = Run("--server", "b.test", file);

        Assert.Equal(2, code);
        Assert.Equal($"productionserving-import: {file}:1:1: no server block has server_name b.test; the server blocks are: a.test", errors.Trim());
    }

    private static (int Code, string Output, string Errors) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var code = ProductionServing.Import.Program.Run(args, output, errors);
        return (code, output.ToString(), errors.ToString());
    }
}
