using System.Text.Json.Nodes;
using ProductionServing.Import.Conversion;
using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Tests.Import;

/// <summary>A temporary folder holding nginx configurations to import.</summary>
internal sealed class ImportFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ps-import-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);

    /// <summary>Writes a file under the folder and returns its full path.</summary>
    public string Write(string name, string text)
    {
        var file = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, text);
        return file;
    }

    /// <summary>Imports <paramref name="config"/> written as nginx.conf.</summary>
    public ImportResult Import(string config, string? app = null, string? server = null)
    {
        var file = Write("nginx.conf", config);
        return NginxImporter.Import(NginxConfigLoader.Load(file), file, new ImportSettings(server, app));
    }
}

/// <summary>Reading an import's result.</summary>
internal static class ImportResultExtensions
{
    public static JsonObject Section(this ImportResult result) => result.Document["ProductionServing"]!.AsObject();

    public static JsonArray Locations(this ImportResult result) => result.Section()["Locations"]!.AsArray();

    /// <summary>The converted location whose Match is <paramref name="match"/>.</summary>
    public static JsonObject Location(this ImportResult result, string match)
    {
        foreach (var location in result.Locations())
        {
            if ((string?)location!["Match"] == match)
            {
                return location.AsObject();
            }
        }

        throw new Xunit.Sdk.XunitException($"no location {match} in {result.Locations().ToJsonString()}");
    }

    /// <summary>Asserts that a node is the JSON <paramref name="expected"/> (objects compared whatever their order).</summary>
    public static void Is(this JsonNode? actual, string expected) =>
        Assert.True(JsonNode.DeepEquals(actual, JsonNode.Parse(expected)), $"expected {expected}\nactual   {actual?.ToJsonString()}");

    /// <summary>The leftovers as "line: directive: reason" lines.</summary>
    public static string[] LeftoverLines(this ImportResult result) =>
        [.. result.Leftovers.Select(l => $"{l.Position.Line}: {l.Directive}: {l.Reason}")];

    /// <summary>Asserts that everything was carried over, listing what was not when it fails.</summary>
    public static void NoLeftovers(this ImportResult result) =>
        Assert.True(result.Leftovers.Count == 0, "left over:\n" + string.Join('\n', result.LeftoverLines()));

    /// <summary>Asserts that the library's own binder and validator accept the document.</summary>
    public static void IsValidConfiguration(this ImportResult result) =>
        Assert.Empty(ProductionServing.Tests.Infrastructure.TestConfig.Failures(result.Document.ToJsonString()));
}
