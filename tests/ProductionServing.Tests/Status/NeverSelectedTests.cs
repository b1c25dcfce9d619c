using CsCheck;
using ProductionServing.Routing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Status;

/// <summary>
/// The locations reported as never selectable: each provable case, cases that must not be claimed, and a
/// property test that no location so reported is ever selected for any path (the claims are sound), with
/// the match explanation agreeing with the matcher on every path.
/// </summary>
public sealed class NeverSelectedTests
{
    /// <summary>Each row: the Match strings, and for each the start of its reason (null: selectable).</summary>
    public static TheoryData<string[], string?[]> Cases => new()
    {
        // A regex repeating an earlier one; an earlier ~* covers a later ~ of the same pattern, not the other way.
        { [@"~ \.php$", @"~ \.php$"], [null, "repeats Locations[0]"] },
        { [@"~* \.php$", @"~ \.php$"], [null, "repeats Locations[0]"] },
        { [@"~ \.php$", @"~* \.php$"], [null, null] },

        // A regex that matches every path: every later regex and every plain prefix are shadowed; ^~ and = are not.
        { ["~ /", @"~ \.png$", "/api/", "^~ /static/", "= /x"], [null, "Locations[0] ('~ /') matches every path", "Locations[0] ('~ /') matches every path under it", null, null] },
        { ["/api/", "~ ^.*$"], ["Locations[1] ('~ ^.*$') matches every path under it", null] },

        // An anchored literal regex covers the prefixes under it, and regexes anchored under it.
        { ["~ ^/api/", "/api/v1/", "/ap", "~ ^/api/v2/.+"], [null, "Locations[0] ('~ ^/api/') matches every path under it", null, "Locations[0] ('~ ^/api/') matches every path this one"] },
        // A quantifier on the literal's last character: "^/ab?" does not cover "/ab/" (it is read as "/a" plus more).
        { ["~ ^/ab?", "/ab/"], [null, null] },
        { ["^~ /ab", "~ ^/ab?"], [null, null] },
        // ~* covers case-sensitively too.
        { ["~* ^/API/", "/API/x/"], [null, "Locations[0] ('~* ^/API/') matches every path under it"] },

        // Under a ^~ prefix with no plain prefix below it, regexes are never tried.
        { ["^~ /", @"~ \.png$"], [null, "can match only paths under Locations[0] ('^~ /')"] },
        { ["^~ /", @"~ \.png$", "/x/"], [null, null, null] },
        { ["^~ /static/", @"~ ^/static/.*\.png$", @"~* ^/static/"], [null, "can match only paths under Locations[0]", null] },
        { ["^~ /static/", "/static/js/", @"~ ^/static/.*\.js$"], [null, null, null] },

        // A regex whose one path an exact location takes.
        { ["= /login", @"~ ^/login$", @"~* ^/login$"], [null, "matches only '/login'", null] },

        // Nothing provable: overlapping but different regexes, and prefixes under exacts.
        { [@"~ \.(png|jpg)$", @"~ \.png$", "= /a", "/a"], [null, null, null, null] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void NeverSelected_ReportsWhatIsProvable(string[] matches, string?[] expected)
    {
        var reasons = LocationTable.NeverSelected(TestConfig.Snapshot(matches).Locations);

        for (var i = 0; i < matches.Length; i++)
        {
            if (expected[i] is null)
            {
                Assert.True(reasons[i] is null, $"'{matches[i]}' reported never selected: {reasons[i]}");
            }
            else
            {
                Assert.NotNull(reasons[i]);
                Assert.StartsWith(expected[i]!, reasons[i], StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void RandomConfigurations_NoLocationReportedNeverSelectedIsEverSelected_AndTheExplanationAgreesWithTheMatcher()
    {
        string[] pool =
        [
            "/", "/a", "/a/", "/ab", "/a/b", "/b/", "^~ /", "^~ /a/", "^~ /a/b", "^~ /ab", "^~ /b", "= /", "= /a", "= /a/b", "= /A",
            "~ /", "~ ^/a", "~ ^/a/", "~ ^/a$", "~ ^/ab?", "~ ^/a.*", "~ a", @"~ \.png$", "~ ^/b/.+", "~* ^/a", "~* ^/A/", "~* ^/a$",
            "~ ^/a/b", "~* b", "~ ^.+$",
        ];
        string[] pieces = ["/", "a", "b", "A", "B", ".png"];
        var config = Gen.Int[0, pool.Length - 1].Array[1, 8].Select(picks => picks.Select(i => pool[i]).Distinct().ToArray());
        var path = Gen.Int[0, pieces.Length - 1].Array[0, 6].Select(parts => "/" + string.Concat(parts.Select(i => pieces[i])));

        Gen.Select(config, path.Array[20]).Sample((matches, paths) =>
        {
            if (HasDuplicate(matches))
            {
                return; // refused at startup
            }

            var snapshot = TestConfig.Snapshot(matches);
            var reasons = LocationTable.NeverSelected(snapshot.Locations);
            foreach (var p in paths)
            {
                if (!RequestPath.TryNormalize(p, out var normalized))
                {
                    continue;
                }

                var selected = snapshot.Matcher.Select(normalized);
                Assert.Same(selected, MatchTrace.Of(snapshot.Matcher, normalized).Winner);
                if (selected is not null)
                {
                    Assert.True(reasons[selected.Feature.Index] is null,
                        $"{string.Join(" | ", matches)}: '{normalized}' selects '{selected.Feature.Match}', reported never selected: {reasons[selected.Feature.Index]}");
                }
            }
        }, iter: 400);
    }

    /// <summary>Whether two prefix or two exact locations have the same path (the validator refuses them, as nginx does).</summary>
    private static bool HasDuplicate(string[] matches)
    {
        var seen = new HashSet<(bool, string)>();
        foreach (var match in matches)
        {
            Assert.True(LocationPattern.TryParse(match, out var pattern, out _));
            if (!pattern.IsRegex && !seen.Add((pattern.Kind == LocationKind.Exact, pattern.Pattern)))
            {
                return true;
            }
        }

        return false;
    }
}
