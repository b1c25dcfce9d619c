using ProductionServing.Routing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Routing;

/// <summary>
/// nginx's location selection rules. Cases cite the nginx documentation of the <c>location</c> directive
/// (https://nginx.org/en/docs/http/ngx_http_core_module.html#location): its example and its rules, one row each.
/// Each row: the configured Match strings, the request path (already normalized), and the index of
/// the selected location (-1: none matched, so the app takes it).
/// </summary>
public sealed class LocationMatcherTests
{
    // The example in the nginx documentation of "location", configurations A to E.
    private static readonly string[] NginxDocExample = ["= /", "/", "/documents/", "^~ /images/", @"~* \.(gif|jpg|jpeg)$"];

    public static TheoryData<string[], string, int> Cases => new()
    {
        // nginx docs: "/" matches A, "/index.html" B, "/documents/document.html" C, "/images/1.gif" D, "/documents/1.jpg" E.
        { NginxDocExample, "/", 0 },
        { NginxDocExample, "/index.html", 1 },
        { NginxDocExample, "/documents/document.html", 2 },
        { NginxDocExample, "/images/1.gif", 3 },
        { NginxDocExample, "/documents/1.jpg", 4 },

        // Exact beats everything, including a ^~ prefix and a regex that also match.
        { ["^~ /x", "~ ^/x$", "= /x"], "/x", 2 },
        // An exact match is the whole path: no prefix and no trailing-slash leniency.
        { ["= /x"], "/x/", -1 },
        { ["= /x"], "/xy", -1 },

        // ^~ on the longest prefix stops the regex search.
        { ["^~ /static/", @"~ \.css$"], "/static/site.css", 0 },
        // ...but only when it is the longest prefix: a longer plain prefix lets regexes run.
        { ["^~ /static/", "/static/js/", @"~ \.js$"], "/static/js/app.js", 2 },
        { ["^~ /static/", "/static/js/", @"~ \.js$"], "/static/js/app.map", 1 },
        // A shorter ^~ does not stop regexes when a longer plain prefix matches: the ^~ rule applies to the longest prefix only.
        { ["^~ /a/", "/a/b/", "~ /a/b/c"], "/a/b/c", 2 },

        // Regexes are tried in configuration order; the first match wins.
        { [@"~ \.js$", "~ ^/app/"], "/app/main.js", 0 },
        { ["~ ^/app/", @"~ \.js$"], "/app/main.js", 0 },
        // A regex wins over a longer matching prefix.
        { ["/very/long/prefix/", @"~ \.png$"], "/very/long/prefix/a.png", 1 },
        // When no regex matches, the longest prefix wins.
        { ["/very/long/prefix/", @"~ \.png$"], "/very/long/prefix/a.gif", 0 },

        // ~ is case-sensitive, ~* is not.
        { [@"~ \.png$"], "/A.PNG", -1 },
        { [@"~* \.png$"], "/A.PNG", 0 },
        { [@"~ \.png$", @"~* \.png$"], "/a.png", 0 },
        { [@"~ \.png$", @"~* \.png$"], "/a.PNG", 1 },

        // Prefixes and exact matches compare case-sensitively, as nginx on Linux.
        { ["/Api/"], "/api/x", -1 },
        { ["= /Health"], "/health", -1 },

        // Longest prefix, with nested-looking prefixes.
        { ["/a/", "/a/b/"], "/a/b/c", 1 },
        { ["/a/", "/a/b/"], "/a/c", 0 },
        { ["/a", "/a/", "/ab"], "/a", 0 },
        { ["/a", "/a/", "/ab"], "/a/", 1 },
        { ["/a", "/a/", "/ab"], "/ab", 2 },
        { ["/a", "/a/", "/ab"], "/abc", 2 },
        { ["/a", "/a/", "/ab"], "/a/x", 1 },
        { ["/a", "/a/", "/ab"], "/ax", 0 },
        { ["/a", "/a/", "/ab"], "/b", -1 },
        // A prefix longer than the path does not match it.
        { ["/api/"], "/api", -1 },
        // "/" takes everything that nothing longer takes.
        { ["/", "/api/"], "/other", 0 },

        // No location matches: the app takes it.
        { ["/api/", "= /healthz", @"~ \.php$"], "/other", -1 },
        { [], "/anything", -1 },

        // Exact "= /" is only the root (nginx docs: speeds up "/" requests).
        { ["= /", "/"], "/x", 1 },

        // Regex locations see the decoded path, including non-ASCII text.
        { ["~ ^/caf\u00e9/", "/"], "/caf\u00e9/menu", 0 },
        // Anchors are the regex's own: an unanchored regex matches anywhere in the path.
        { ["~ admin"], "/site/admin/users", 0 },
        { ["~ ^/admin"], "/site/admin/users", -1 },
        // Capture groups and alternations compile as written.
        { [@"~ ^/users/(\d+)$"], "/users/42", 0 },
        { [@"~ ^/users/(\d+)$"], "/users/abc", -1 },

        // The modifier may be written against its pattern, as nginx accepts.
        { ["=/x", "^~/y/", @"~*\.gif$"], "/x", 0 },
        { ["=/x", "^~/y/", @"~*\.gif$"], "/y/a.gif", 1 },
        { ["=/x", "^~/y/", @"~*\.gif$"], "/z/a.GIF", 2 },
        // A plain prefix may contain spaces; requests are matched on the decoded path.
        { ["/my files/"], "/my files/a.txt", 0 },
        // An exact and a prefix location with the same path may coexist (nginx allows it).
        { ["= /x", "/x"], "/x", 0 },
        { ["= /x", "/x"], "/x/y", 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Select_FollowsNginxRules(string[] matches, string path, int expected)
    {
        var snapshot = TestConfig.Snapshot(matches);

        var selected = snapshot.Matcher.Select(path);

        Assert.Equal(expected, selected?.Feature.Index ?? -1);
    }

    [Theory]
    // Percent-decoding happens before matching (nginx matches the decoded URI), including %2F.
    [InlineData("/%61pi/x", 0)]
    [InlineData("/api%2Fx", 0)]
    // Dot segments and duplicate slashes are resolved before matching.
    [InlineData("/static/../api/x", 0)]
    [InlineData("/api/./x", 0)]
    [InlineData("//api//x", 0)]
    [InlineData("/%2e%2e/api/x", null)]
    [InlineData("/static/a.css", 1)]
    [InlineData("/x.CSS", 2)]
    public void Select_MatchesTheNormalizedPath(string target, int? expected)
    {
        var snapshot = TestConfig.Snapshot("/api/", "^~ /static/", @"~* \.css$");

        var ok = RequestPath.TryNormalize(target, out var path);

        if (expected is null)
        {
            Assert.False(ok);
        }
        else
        {
            Assert.True(ok);
            Assert.Equal(expected, snapshot.Matcher.Select(path)?.Feature.Index);
        }
    }

    [Fact]
    public void Select_ManyPrefixes_FindsTheLongestLikeALinearScan()
    {
        // A randomized cross-check of the radix tree against the obvious linear scan.
        var random = new Random(20261125);
        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        while (prefixes.Count < 500)
        {
            prefixes.Add(RandomPath(random, maxSegments: 4));
        }

        var matches = prefixes.ToArray();
        var snapshot = TestConfig.Snapshot(matches);
        for (var i = 0; i < 5_000; i++)
        {
            var path = random.Next(2) == 0 ? matches[random.Next(matches.Length)] + RandomPath(random, 2)[1..] : RandomPath(random, maxSegments: 5);
            var expected = -1;
            for (var j = 0; j < matches.Length; j++)
            {
                if (path.StartsWith(matches[j], StringComparison.Ordinal) && (expected < 0 || matches[j].Length > matches[expected].Length))
                {
                    expected = j;
                }
            }

            Assert.Equal(expected, snapshot.Matcher.Select(path)?.Feature.Index ?? -1);
        }
    }

    private static string RandomPath(Random random, int maxSegments)
    {
        const string Alphabet = "ab/c";
        var length = random.Next(1, maxSegments * 3);
        var chars = new char[length + 1];
        chars[0] = '/';
        for (var i = 1; i <= length; i++)
        {
            chars[i] = Alphabet[random.Next(Alphabet.Length)];
            if (chars[i] == '/' && chars[i - 1] == '/')
            {
                chars[i] = 'a';
            }
        }

        return new string(chars);
    }
}
