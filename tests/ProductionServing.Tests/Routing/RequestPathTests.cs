using ProductionServing.Routing;

namespace ProductionServing.Tests.Routing;

/// <summary>
/// The path locations are matched on: decoded, slashes merged, dot segments resolved (RFC 3986 §5.2.4
/// and nginx's normalized URI), and refusals (400) for what nginx refuses.
/// </summary>
public sealed class RequestPathTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/a/b", "/a/b")]
    [InlineData("/a/b/", "/a/b/")]
    // Percent-decoding, %2F included (nginx decodes it before matching), UTF-8 text.
    [InlineData("/a%20b", "/a b")]
    [InlineData("/a%2Fb", "/a/b")]
    [InlineData("/a%2fb", "/a/b")]
    [InlineData("/caf%C3%A9", "/caf\u00e9")]
    [InlineData("/%7Euser", "/~user")]
    // Decoding is done once: %25 becomes '%' and is not decoded again.
    [InlineData("/%252e%252e/x", "/%2e%2e/x")]
    [InlineData("/a+b", "/a+b")]
    // Duplicate slashes merge (nginx merge_slashes on).
    [InlineData("//a//b///", "/a/b/")]
    [InlineData("//", "/")]
    // Dot segments resolve, including encoded dots.
    [InlineData("/a/./b", "/a/b")]
    [InlineData("/a/.", "/a/")]
    [InlineData("/a/b/..", "/a/")]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("/a/%2e%2e/c", "/c")]
    [InlineData("/a/%2E/c", "/a/c")]
    [InlineData("/a/..%2Fc", "/c")]
    [InlineData("/a/..", "/")]
    [InlineData("/./", "/")]
    // Names that merely contain dots are ordinary segments.
    [InlineData("/a/.../b", "/a/.../b")]
    [InlineData("/a/..b/c", "/a/..b/c")]
    [InlineData("/.well-known/x", "/.well-known/x")]
    [InlineData("/a/b.", "/a/b.")]
    public void TryNormalize_ReturnsTheMatchedPath(string raw, string expected)
    {
        Assert.True(RequestPath.TryNormalize(raw, out var path));
        Assert.Equal(expected, path);
    }

    [Theory]
    // Climbing above the root.
    [InlineData("/..")]
    [InlineData("/../etc/passwd")]
    [InlineData("/a/../../etc/passwd")]
    [InlineData("/%2e%2e/etc/passwd")]
    [InlineData("/%2E%2E%2Fetc%2Fpasswd")]
    [InlineData("/a/%2e%2e%2f%2e%2e/x")]
    [InlineData("//..//x")]
    // Malformed escapes.
    [InlineData("/a%")]
    [InlineData("/a%2")]
    [InlineData("/a%zz")]
    [InlineData("/a%G0")]
    // Control characters (NUL, CR/LF header breakers, TAB, DEL) and backslashes, decoded or not:
    // a path separator on Windows file systems and never needed in a URL.
    [InlineData("/a%00b")]
    [InlineData("/a%0D%0ALocation:%20x")]
    [InlineData("/a%09b")]
    [InlineData("/a%7Fb")]
    [InlineData("/a\\b")]
    [InlineData("/static/..%5C..%5Csecret")]
    [InlineData("/a%5cb")]
    // Bytes that are not UTF-8: overlong '.' and '/', a lone continuation byte, a truncated sequence, a surrogate.
    [InlineData("/%C0%AE%C0%AE/x")]
    [InlineData("/%C0%AF")]
    [InlineData("/%E0%80%AE")]
    [InlineData("/%80")]
    [InlineData("/%C3")]
    [InlineData("/%ED%A0%80")]
    // Not an origin-form path.
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("*")]
    public void TryNormalize_RefusesWhatNginxRefuses(string raw)
    {
        Assert.False(RequestPath.TryNormalize(raw, out _));
    }

    [Fact]
    public void TryNormalize_LongPath_UsesPooledBuffersAndStaysCorrect()
    {
        var segment = "/" + new string('a', 100);
        var raw = string.Concat(Enumerable.Repeat(segment + "/.", 40)) + "/%41";
        var expected = string.Concat(Enumerable.Repeat(segment, 40)) + "/A";

        Assert.True(RequestPath.TryNormalize(raw, out var path));
        Assert.Equal(expected, path);
    }

    [Fact]
    public void TryNormalize_RandomInput_NeverThrowsAndNeverClimbs()
    {
        // Property check: whatever the input, the result is a rooted path with no '.'/'..' segments and no '//'.
        var random = new Random(42);
        string[] pieces = ["/", "/", "a", "b", ".", "..", "%2e", "%2E", "%2f", "%2F", "%", "%0", "%00", "%C3%A9", "%C0%AE", "//", "\\", "%25"];
        for (var i = 0; i < 20_000; i++)
        {
            var raw = "/" + string.Concat(Enumerable.Range(0, random.Next(12)).Select(_ => pieces[random.Next(pieces.Length)]));
            if (!RequestPath.TryNormalize(raw, out var path))
            {
                continue;
            }

            Assert.StartsWith("/", path, StringComparison.Ordinal);
            Assert.DoesNotContain("//", path, StringComparison.Ordinal);
            Assert.DoesNotContain(path.Split('/'), segment => segment is "." or "..");
        }
    }
}
