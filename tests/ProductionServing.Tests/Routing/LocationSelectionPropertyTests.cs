using System.Text.RegularExpressions;
using CsCheck;
using ProductionServing.Routing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Routing;

/// <summary>
/// Location selection against a model of nginx's rules written the plain way (docs/locations.md): for random configurations
/// and paths the matcher, with its prefix tree and compiled regexes, selects what a scan in nginx's order selects.
/// </summary>
public sealed class LocationSelectionPropertyTests
{
    private static readonly string[] Pool =
    [
        "/", "/a", "/a/", "/ab", "/a/b", "/b/", "/a/b/c", "^~ /", "^~ /a/", "^~ /a/b", "^~ /ab", "^~ /b", "= /", "= /a", "= /a/b", "= /A",
        "~ /", "~ ^/a", "~ ^/a/", "~ ^/a$", "~ ^/ab?", "~ ^/a.*", "~ a", @"~ \.png$", "~ ^/b/.+", "~* ^/a", "~* ^/A/", "~* ^/a$",
        "~ ^/a/b", "~* b", "~ ^.+$", @"~* \.PNG$",
    ];

    private static readonly string[] Pieces = ["/", "a", "b", "A", "B", ".png", "c"];

    [Fact]
    public void TheMatcher_SelectsWhatNginxsOrderSelects()
    {
        var config = Gen.Int[0, Pool.Length - 1].Array[1, 10].Select(picks => picks.Select(i => Pool[i]).Distinct().ToArray());
        var path = Gen.Int[0, Pieces.Length - 1].Array[0, 7].Select(parts => "/" + string.Concat(parts.Select(i => Pieces[i])));
        var selections = 0;

        // 400 configurations × 25 paths: 10,000 selections.
        Gen.Select(config, path.Array[25]).Sample((matches, paths) =>
        {
            if (HasDuplicate(matches))
            {
                return; // refused at startup, as nginx refuses a duplicate location
            }

            var snapshot = TestConfig.Snapshot(matches);
            foreach (var p in paths)
            {
                if (!RequestPath.TryNormalize(p, out var normalized))
                {
                    continue;
                }

                Interlocked.Increment(ref selections);
                var selected = snapshot.Matcher.Select(normalized)?.Feature.Index ?? -1;
                Assert.True(selected == Nginx(matches, normalized),
                    $"{string.Join(" | ", matches)}: '{normalized}' selects {selected}, nginx's order {Nginx(matches, normalized)}");
            }
        }, iter: 400);

        Assert.True(selections > 5_000, $"only {selections} selections were checked");
    }

    /// <summary>nginx's order, scanned: an exact match; else the longest prefix, if it is ^~; else the first regex; else the longest prefix.</summary>
    private static int Nginx(string[] matches, string path)
    {
        var longest = -1;
        var longestLength = -1;
        for (var i = 0; i < matches.Length; i++)
        {
            var (modifier, pattern) = Split(matches[i]);
            if (modifier == "=" && pattern == path)
            {
                return i;
            }

            if (modifier is "" or "^~" && path.StartsWith(pattern, StringComparison.Ordinal) && pattern.Length > longestLength)
            {
                (longest, longestLength) = (i, pattern.Length);
            }
        }

        if (longest >= 0 && Split(matches[longest]).Modifier == "^~")
        {
            return longest;
        }

        for (var i = 0; i < matches.Length; i++)
        {
            var (modifier, pattern) = Split(matches[i]);
            if (modifier is "~" or "~*" && Regex.IsMatch(path, pattern, modifier == "~*" ? RegexOptions.IgnoreCase | RegexOptions.CultureInvariant : RegexOptions.CultureInvariant))
            {
                return i;
            }
        }

        return longest;
    }

    private static (string Modifier, string Pattern) Split(string match)
    {
        var space = match.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? ("", match) : (match[..space], match[(space + 1)..]);
    }

    private static bool HasDuplicate(string[] matches)
    {
        var seen = new HashSet<(bool, string)>();
        foreach (var match in matches)
        {
            var (modifier, pattern) = Split(match);
            if (modifier is not ("~" or "~*") && !seen.Add((modifier == "=", pattern)))
            {
                return true;
            }
        }

        return false;
    }
}
