using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Tests.Import;

/// <summary>nginx's configuration grammar as its reader (ngx_conf_read_token) splits it.</summary>
public sealed class NginxConfigReaderTests
{
    [Fact]
    public void Blocks_Nest_WithTheirDirectivesAndPositions()
    {
        var directives = NginxConfigReader.Read(
            """
            http {
                server {
                    listen 80;
                    location ~* \.(css|js)$ { expires 30d; }
                }
            }
            """, "nginx.conf");

        var http = Assert.Single(directives);
        Assert.Equal("http", http.Name);
        Assert.Empty(http.Arguments);
        var server = Assert.Single(http.Block!);
        Assert.Equal(new SourcePosition("nginx.conf", 2, 5), server.Position);
        Assert.Equal(["listen", "location"], server.Block!.Select(d => d.Name));
        var location = server.Block![1];
        Assert.Equal(["~*", @"\.(css|js)$"], location.Arguments);
        Assert.Equal(new SourcePosition("nginx.conf", 4, 9), location.Position);
        var expires = Assert.Single(location.Block!);
        Assert.Equal(["30d"], expires.Arguments);
        Assert.Null(expires.Block);
    }

    [Theory]
    [InlineData("return 200 \"a b;{}\";", "a b;{}")]
    [InlineData("return 200 'it''s';", null)]
    [InlineData("return 200 'say \"hi\"';", "say \"hi\"")]
    [InlineData("return 200 \"tab\\there\";", "tab\there")]
    [InlineData("return 200 \"line\\n\";", "line\n")]
    [InlineData("return 200 \"q\\\"uote\\\\\";", "q\"uote\\")]
    [InlineData("return 200 a\\ b;", "a\\ b")] // the space is not a separator, but nginx keeps the backslash
    [InlineData("return 200 ${uri}x;", "${uri}x")]
    [InlineData("return 200 \\d+;", "\\d+")]
    [InlineData("return 200 a#b;", "a#b")]
    [InlineData("return 200 a}b;", "a}b")]
    public void Words_AreReadAsNginxReadsThem(string text, string? second)
    {
        if (second is null)
        {
            Assert.Throws<NginxConfigException>(() => NginxConfigReader.Read(text, "f"));
            return;
        }

        var directive = Assert.Single(NginxConfigReader.Read(text, "f"));
        Assert.Equal(["200", second], directive.Arguments);
    }

    [Fact]
    public void Comments_StartOnlyWhereAWordCould()
    {
        var directives = NginxConfigReader.Read(
            """
            # a whole line
            index index.html; # after a directive
            add_header X-A "#not a comment"; add_header X-B b#c;
            """, "f");

        Assert.Equal(["index", "add_header", "add_header"], directives.Select(d => d.Name));
        Assert.Equal(["X-A", "#not a comment"], directives[1].Arguments);
        Assert.Equal(["X-B", "b#c"], directives[2].Arguments);
    }

    [Theory]
    [InlineData("server {\n  listen 80;\n", "f:3:1: unexpected end of file, expecting \"}\" to close the block opened at line 1")]
    [InlineData("listen 80", "f:1:10: unexpected end of file, expecting \";\" or \"}\"")]
    [InlineData("listen 80;\n}", "f:2:1: unexpected \"}\"")]
    [InlineData("server { listen 80 }", "f:1:20: unexpected \"}\"")]
    [InlineData("listen 80;;", "f:1:11: unexpected \";\"")]
    [InlineData("{ listen 80; }", "f:1:1: unexpected \"{\"")]
    [InlineData("return 200 \"open;\n", "f:1:12: unexpected end of file in the \"…\" that starts here")]
    [InlineData("return 200 \"a\"b;", "f:1:15: unexpected \"b\" after a quoted word")]
    public void MalformedText_IsAnError_WithFileLineAndColumn(string text, string message)
    {
        var error = Assert.Throws<NginxConfigException>(() => NginxConfigReader.Read(text, "f"));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void EmptyAndCommentOnlyText_HasNoDirectives()
    {
        Assert.Empty(NginxConfigReader.Read("", "f"));
        Assert.Empty(NginxConfigReader.Read("  # nothing\n\t\n", "f"));
    }

    [Fact]
    public void QuotedWord_MayEndAnIfCondition()
    {
        var directive = Assert.Single(NginxConfigReader.Read("if ($request_method = \"POST\") { return 405; }", "f"));

        Assert.Equal(["($request_method", "=", "POST", ")"], directive.Arguments);
        Assert.Equal("return", Assert.Single(directive.Block!).Name);
    }
}
