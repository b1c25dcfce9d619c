using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ProductionServing.Directives;

namespace ProductionServing.Tests.Directives;

public class VariableTemplateTests
{
    [Theory]
    [InlineData("https://$host$request_uri", "https://example.com/a%20b?x=1&y=2")]
    [InlineData("$scheme://$host:8443$uri", "http://example.com:8443/a b")]
    [InlineData("${uri}index.html", "/a bindex.html")]
    [InlineData("$args", "x=1&y=2")]
    [InlineData("[$request_method]", "[GET]")]
    [InlineData("$remote_addr", "10.1.2.3")]
    [InlineData("for=$remote_addr;ua=$http_user_agent", "for=10.1.2.3;ua=curl/8")]
    [InlineData("$http_x_forwarded_for", "1.1.1.1, 2.2.2.2")]
    [InlineData("$cookie_session", "abc")]
    [InlineData("$cookie_missing|$http_missing|", "||")]
    [InlineData("no variables", "no variables")]
    [InlineData("", "")]
    public void Expand_GivesNginxValues(string text, string expected)
    {
        Assert.True(VariableTemplate.TryParse(text, captures: 0, out var template, out var problem), problem);
        Assert.Equal(expected, template.Expand(Scope(Request())));
    }

    [Fact]
    public void Host_IsLowerCase_WithoutPort_AndTheServersAddressWithoutOne()
    {
        var context = Request();
        context.Request.Host = new HostString("Example.COM:8080");
        Assert.Equal("example.com", Expand("$host", context));

        context.Request.Host = default;
        context.Connection.LocalIpAddress = IPAddress.Parse("127.0.0.1");
        Assert.Equal("127.0.0.1", Expand("$host", context));
    }

    [Fact]
    public void RequestUri_OfAnAbsoluteFormTarget_IsItsPathAndQuery()
    {
        var context = Request();
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = "http://example.com/p?q=1";
        Assert.Equal("/p?q=1", Expand("$request_uri", context));
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = "http://example.com";
        Assert.Equal("/", Expand("$request_uri", context));
    }

    [Fact]
    public void RemoteAddr_OfAnIPv4MappedClient_IsIPv4()
    {
        var context = Request();
        context.Connection.RemoteIpAddress = IPAddress.Parse("::ffff:192.0.2.7");
        Assert.Equal("192.0.2.7", Expand("$remote_addr", context));
        Assert.Equal("a 192.0.2.7", Expand("a $remote_addr", context));
    }

    [Fact]
    public void RequestId_Is32HexCharacters_TheSameForTheWholeRequest_AndNewForTheNext()
    {
        var context = Request();
        var first = Expand("$request_id", context);
        Assert.Matches("^[0-9a-f]{32}$", first);
        Assert.Equal("id=" + first, Expand("id=$request_id", context));
        Assert.NotEqual(first, Expand("$request_id", Request()));
    }

    [Fact]
    public void Captures_ComeFromTheLocationsMatch_AndAnUnmatchedGroupIsEmpty()
    {
        var match = new Regex("^/user/(\\d+)(/edit)?(/x)?$").Match("/user/42/edit");
        Assert.True(VariableTemplate.TryParse("/u/$1$2$3-$12", captures: 3, out var template, out var problem), problem);
        Assert.Equal(3, template.HighestCapture);
        Assert.Equal("/u/42/edit-422", template.Expand(new VariableScope(Request(), "/user/42/edit", match)));
    }

    [Theory]
    [InlineData("$hots", 0, "$hots is not a variable")]
    [InlineData("price: $", 0, "'$' at position 7 starts no variable")]
    [InlineData("a $-b", 0, "'$' at position 2 starts no variable")]
    [InlineData("${uri", 0, "opens '${' without a closing '}'")]
    [InlineData("$1", 0, "$1 is a capture, but there is no regex")]
    [InlineData("$3", 2, "$3 names a capture the location's regex does not have (it has 2 groups)")]
    [InlineData("$0", 2, "$0 is not a capture")]
    [InlineData("$http_", 0, "$http_ is not a variable")]
    public void Malformed_IsRefused_SayingWhy(string text, int captures, string expected)
    {
        Assert.False(VariableTemplate.TryParse(text, captures, out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Expand_OfOneVariable_HandsBackTheRequestsOwnString()
    {
        var context = Request();
        Assert.Same(context.Request.Method, Expand("$request_method", context));
        Assert.True(VariableTemplate.TryParse("constant", 0, out var constant, out _));
        Assert.True(constant.IsConstant);
        Assert.Same(constant.Text, constant.Expand(Scope(context)));
    }

    private static string Expand(string text, HttpContext context)
    {
        Assert.True(VariableTemplate.TryParse(text, captures: 0, out var template, out var problem), problem);
        return template.Expand(Scope(context));
    }

    private static VariableScope Scope(HttpContext context) => new(context, "/a b", captures: null);

    private static DefaultHttpContext Request()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("example.com");
        context.Request.Path = "/a b";
        context.Request.QueryString = new QueryString("?x=1&y=2");
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = "/a%20b?x=1&y=2";
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.1.2.3");
        context.Request.Headers.UserAgent = "curl/8";
        context.Request.Headers["X-Forwarded-For"] = "1.1.1.1, 2.2.2.2";
        context.Request.Headers.Cookie = "session=abc; other=1";
        return context;
    }
}
