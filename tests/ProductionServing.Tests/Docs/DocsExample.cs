using System.Text;
using System.Text.RegularExpressions;

namespace ProductionServing.Tests.Docs;

/// <summary>What a fenced JSON example in the documentation is, as its marker says.</summary>
internal enum DocsExampleKind
{
    /// <summary>No marker: a whole configuration document with a <c>ProductionServing</c> section.</summary>
    Document,

    /// <summary><c>&lt;!-- example: locations --&gt;</c>: location objects, the inside of <c>"Locations": [ … ]</c>.</summary>
    Locations,

    /// <summary><c>&lt;!-- example: section --&gt;</c>: members of the <c>ProductionServing</c> section (<c>"Locations": […], "Upstreams": {…}</c>).</summary>
    Section,

    /// <summary><c>&lt;!-- example: output --&gt;</c>: JSON that ProductionServing writes or answers, not configuration.</summary>
    Output,
}

/// <summary>
/// A fenced <c>```json</c> or <c>```jsonc</c> block of README.md or docs/*.md, named by its file (relative to the
/// repository root) and the line of its opening fence.
/// </summary>
internal sealed partial record DocsExample(string File, int Line, DocsExampleKind Kind, string Text)
{
    /// <summary>The name a test case carries: <c>docs/proxy.md:3</c>.</summary>
    public string Name => $"{File}:{Line}";

    /// <summary>
    /// The example as an appsettings.json document. Fragments are wrapped on lines of their own, so a
    /// <c>//</c> comment on a fragment's last line cannot swallow the closing brackets.
    /// </summary>
    public string Document => Kind switch
    {
        DocsExampleKind.Locations => "{ \"ProductionServing\": { \"Locations\": [\n" + Text + "\n] } }",
        DocsExampleKind.Section => "{ \"ProductionServing\": {\n" + Text + "\n} }",
        _ => Text,
    };

    /// <summary>The repository root.</summary>
    public static string RepositoryRoot => ProductionServing.Tests.Infrastructure.Repository.Root;

    /// <summary>Every JSON example of README.md, SECURITY.md and docs/*.md, in file order.</summary>
    public static IReadOnlyList<DocsExample> All { get; } = FindAll();

    private static List<DocsExample> FindAll()
    {
        var files = new List<string> { "README.md", "SECURITY.md" };
        files.AddRange(Directory.GetFiles(Path.Combine(RepositoryRoot, "docs"), "*.md")
            .Select(path => Path.GetRelativePath(RepositoryRoot, path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal));
        return [.. files.SelectMany(file => Parse(file, System.IO.File.ReadAllLines(Path.Combine(RepositoryRoot, file))))];
    }

    /// <summary>
    /// The JSON examples of one Markdown file. A marker is an HTML comment (invisible on GitHub) on the last
    /// non-blank line before the opening fence; an unknown marker is an error rather than an example skipped.
    /// </summary>
    internal static IEnumerable<DocsExample> Parse(string file, string[] lines)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var open = Fence().Match(lines[i]);
            if (!open.Success)
            {
                continue;
            }

            var start = i;
            var body = new StringBuilder();
            for (i++; i < lines.Length && !lines[i].TrimEnd().Equals("```", StringComparison.Ordinal); i++)
            {
                body.Append(lines[i]).Append('\n');
            }

            if (i == lines.Length)
            {
                throw new InvalidOperationException($"{file}:{start + 1}: the fence is never closed.");
            }

            var language = open.Groups["language"].Value;
            if (language is "json" or "jsonc")
            {
                yield return new DocsExample(file, start + 1, KindBefore(file, lines, start), body.ToString());
            }
        }
    }

    private static DocsExampleKind KindBefore(string file, string[] lines, int fence)
    {
        var previous = fence - 1;
        while (previous >= 0 && lines[previous].Trim().Length == 0)
        {
            previous--;
        }

        var marker = previous < 0 ? Match.Empty : Marker().Match(lines[previous]);
        if (!marker.Success)
        {
            return DocsExampleKind.Document;
        }

        return marker.Groups["kind"].Value switch
        {
            "locations" => DocsExampleKind.Locations,
            "section" => DocsExampleKind.Section,
            "output" => DocsExampleKind.Output,
            var other => throw new InvalidOperationException(
                $"{file}:{previous + 1}: unknown example marker '{other}'; use locations, section or output."),
        };
    }

    [GeneratedRegex(@"^```(?<language>[A-Za-z0-9_+-]*)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*<!--\s*example:\s*(?<kind>\S+)\s*-->\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Marker();
}
