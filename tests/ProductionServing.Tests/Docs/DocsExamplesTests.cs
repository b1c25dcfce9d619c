using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Docs;

/// <summary>
/// Every JSON example of README.md and docs/*.md is true: bound by the library's own binder, validated by its
/// own validator, and accepted by a host that starts with it, as an app's appsettings.json would be.
/// </summary>
/// <remarks>
/// <para>
/// The convention, for whoever writes an example: a <c>```json</c> or <c>```jsonc</c> block is a whole
/// document with a <c>ProductionServing</c> section, or has a marker, an HTML comment on the line before its
/// fence (GitHub does not show it):
/// </para>
/// <list type="bullet">
/// <item><c>&lt;!-- example: locations --&gt;</c>: location objects, checked inside <c>"Locations": [ … ]</c>;</item>
/// <item><c>&lt;!-- example: section --&gt;</c>: members of the section (<c>"Locations": …, "Upstreams": …</c>);</item>
/// <item><c>&lt;!-- example: output --&gt;</c>: JSON the library answers or writes; it must parse, nothing more.</item>
/// </list>
/// <para>
/// Comments and trailing commas are allowed, as Microsoft.Extensions.Configuration.Json allows them. Nothing
/// is assumed around an example: an upstream named in a <c>Proxy.Pass</c> must be declared in the example
/// itself (the validator looks up a host that is not an upstream in DNS, and names like <c>backend</c> do
/// not resolve). Relative <c>Root</c> and <c>Alias</c> folders need not exist: the library accepts a missing
/// folder (its requests get 404), so the host starts on an empty content root.
/// </para>
/// <para>
/// Examples are checked with the ServiceDiscovery companion registered (<c>AddProductionServingServiceDiscovery()</c>),
/// as an app that follows docs/proxy.md's "Discovered upstreams" has it: an upstream's <c>Discover</c> is then
/// validated and resolved like any other setting (the whole document is the host's configuration, so an
/// example's <c>Services</c> section is what the name resolves to; without one the name passes through as a
/// DNS name, which nothing connects to at startup). Without the companion, <c>Discover</c> is a startup error.
/// </para>
/// </remarks>
public sealed class DocsExamplesTests
{
    private static readonly Action<IServiceCollection> WithServiceDiscovery = static s => s.AddProductionServingServiceDiscovery();

    private static readonly JsonDocumentOptions Jsonc = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static TheoryData<string> ConfigurationExamples => [.. DocsExample.All.Where(e => e.Kind != DocsExampleKind.Output).Select(e => e.Name)];

    public static TheoryData<string> OutputExamples => [.. DocsExample.All.Where(e => e.Kind == DocsExampleKind.Output).Select(e => e.Name)];

    [Theory]
    [MemberData(nameof(ConfigurationExamples))]
    public async Task ConfigurationExample_BindsValidatesAndStarts(string example)
    {
        var docs = Find(example);
        var document = docs.Document;

        Assert.True(HasSection(document, out var problem),
            $"{example}: {problem}; write a whole document with a ProductionServing section, or mark a fragment with <!-- example: locations -->, "
            + $"<!-- example: section --> or <!-- example: output --> on the line before its fence (see DocsExamplesTests).\n\nChecked as:\n{document}");

        var failures = TestConfig.Failures(document, WithServiceDiscovery);
        Assert.True(failures.Count == 0, $"{example} is refused by the validator:\n{string.Join('\n', failures)}\n\nChecked as:\n{document}");

        // Validation alone does not compile the configuration (handlers, upstream groups, pools, the access
        // log's file): a host that starts with it has done what UseProductionServing() does at startup.
        var contentRoot = Directory.CreateTempSubdirectory("ps-docs-example-").FullName;
        try
        {
            await using var host = await ServingHost.StartAsync(document, contentRoot: contentRoot, services: WithServiceDiscovery);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{example}: a host does not start with it: {ex}\n\nChecked as:\n{document}");
        }
        finally
        {
            Directory.Delete(contentRoot, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(OutputExamples))]
    public void OutputExample_IsJson(string example)
    {
        using var parsed = JsonDocument.Parse(Find(example).Text, Jsonc);

        Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
    }

    [Fact]
    public void Examples_AreFoundInTheReadmeAndTheDocs()
    {
        Assert.Contains(DocsExample.All, e => e.File == "README.md" && e.Kind == DocsExampleKind.Document);
        Assert.Contains(DocsExample.All, e => e.File.StartsWith("docs/", StringComparison.Ordinal) && e.Kind == DocsExampleKind.Locations);
        Assert.Contains(DocsExample.All, e => e.File.StartsWith("docs/", StringComparison.Ordinal) && e.Kind == DocsExampleKind.Section);
    }

    [Theory]
    [InlineData("locations", "Locations")]
    [InlineData("section", "Section")]
    [InlineData("output", "Output")]
    public void Parse_MarkerBeforeTheFence_SetsTheKind(string marker, string expected)
    {
        string[] lines = ["text", $"<!-- example: {marker} -->", "", "```jsonc", "{ \"Match\": \"/\", \"App\": {} }", "```", "```sh", "ls", "```"];

        var example = Assert.Single(DocsExample.Parse("docs/x.md", lines));

        Assert.Equal(expected, example.Kind.ToString());
        Assert.Equal(4, example.Line);
        Assert.Equal("{ \"Match\": \"/\", \"App\": {} }\n", example.Text);
    }

    [Fact]
    public void Parse_UnknownMarker_IsAnError()
    {
        string[] lines = ["<!-- example: location -->", "```json", "{}", "```"];

        var error = Assert.Throws<InvalidOperationException>(() => DocsExample.Parse("docs/x.md", lines).ToList());

        Assert.Equal("docs/x.md:1: unknown example marker 'location'; use locations, section or output.", error.Message);
    }

    [Fact]
    public void Document_FragmentEndingInAComment_IsWrappedOnLinesOfItsOwn()
    {
        var example = new DocsExample("docs/x.md", 1, DocsExampleKind.Locations, "{ \"Match\": \"/\", \"App\": {} }   // the app\n");

        Assert.Empty(TestConfig.Failures(example.Document));
    }

    private static bool HasSection(string document, out string problem)
    {
        try
        {
            using var parsed = JsonDocument.Parse(document, Jsonc);
            problem = "has no ProductionServing section";
            return parsed.RootElement.ValueKind == JsonValueKind.Object && parsed.RootElement.TryGetProperty("ProductionServing", out _);
        }
        catch (JsonException ex)
        {
            problem = "is not a JSON document (" + ex.Message + ")";
            return false;
        }
    }

    private static DocsExample Find(string name) =>
        DocsExample.All.SingleOrDefault(e => e.Name == name) ?? throw new InvalidOperationException($"No example {name}: the docs changed since discovery.");
}
