using System.Text;
using System.Text.RegularExpressions;

namespace ProductionServing.Tests.Docs;

/// <summary>
/// Every relative link of README.md, SECURITY.md and docs/*.md reaches a file of the repository, and its <c>#anchor</c> a
/// heading of that file, so the reference split into pages keeps its cross-references.
/// </summary>
public sealed partial class DocsLinksTests
{
    public static TheoryData<string> Pages =>
    [
        "README.md",
        "SECURITY.md",
        .. Directory.GetFiles(Path.Combine(DocsExample.RepositoryRoot, "docs"), "*.md")
            .Select(path => Path.GetRelativePath(DocsExample.RepositoryRoot, path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal),
    ];

    [Theory]
    [MemberData(nameof(Pages))]
    public void RelativeLinks_ReachAFileAndAHeading(string page)
    {
        var broken = new List<string>();
        var lines = File.ReadAllLines(Path.Combine(DocsExample.RepositoryRoot, page));
        foreach (var (line, text) in OutsideFences(lines))
        {
            foreach (Match link in Link().Matches(text))
            {
                var target = link.Groups["target"].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var path = hash < 0 ? target : target[..hash];
                var file = path.Length == 0 ? Path.Combine(DocsExample.RepositoryRoot, page)
                    : Path.GetFullPath(path, Path.GetDirectoryName(Path.Combine(DocsExample.RepositoryRoot, page))!);
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    broken.Add($"{page}:{line}: {target}: no such file");
                }
                else if (hash >= 0 && !Anchors(File.ReadAllLines(file)).Contains(target[(hash + 1)..]))
                {
                    broken.Add($"{page}:{line}: {target}: no such heading");
                }
            }
        }

        Assert.True(broken.Count == 0, string.Join('\n', broken));
    }

    [Theory]
    [InlineData("## Why a request failed: `error.type`", "why-a-request-failed-errortype")]
    [InlineData("### RateLimit, in detail", "ratelimit-in-detail")]
    [InlineData("## Status, AccessLog, ServerTiming", "status-accesslog-servertiming")]
    [InlineData("## The request pipeline, before and after", "the-request-pipeline-before-and-after")]
    public void Anchors_AreGitHubs(string heading, string anchor)
    {
        Assert.Contains(anchor, Anchors([heading]));
    }

    /// <summary>The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered.</summary>
    private static HashSet<string> Anchors(string[] lines)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, text) in OutsideFences(lines))
        {
            var heading = Heading().Match(text);
            if (!heading.Success)
            {
                continue;
            }

            var slug = new StringBuilder();
            foreach (var c in heading.Groups["text"].Value.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }

            var anchor = slug.ToString();
            for (var n = 1; !anchors.Add(anchor); n++)
            {
                anchor = $"{slug}-{n}";
            }
        }

        return anchors;
    }

    private static IEnumerable<(int Line, string Text)> OutsideFences(string[] lines)
    {
        var inFence = false;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
            }
            else if (!inFence)
            {
                yield return (i + 1, lines[i]);
            }
        }
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)", RegexOptions.CultureInvariant)]
    private static partial Regex Link();

    [GeneratedRegex(@"^#{1,6} (?<text>.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex Heading();
}
