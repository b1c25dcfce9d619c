using System.Text.RegularExpressions;
using CsCheck;
using Microsoft.AspNetCore.Http;
using ProductionServing.Directives;

namespace ProductionServing.Tests.Directives;

/// <summary>
/// Variable templates under random and adversarial input: parsing never throws, and a header value
/// expanded from one never carries CR, LF or NUL, whatever the request's own headers, cookies and path hold.
/// </summary>
public sealed class VariableTemplatePropertyTests
{
    private static readonly string[] Pieces =
    [
        "$", "${", "}", "{", "$host", "${host}", "$http_x_user", "$http_", "$cookie_sid", "$cookie_", "$1", "$2", "$9", "$0",
        "$args", "$request_uri", "$uri", "$remote_addr", "$request_id", "$scheme", "$request_method", "$nope",
        "a", "/", "?", "=", " ", "\r", "\n", "\0", "é", "\u2028", "%0d%0a",
    ];

    [Fact]
    public void ParsingAndExpanding_NeverThrow_AndAHeaderValueNeverBreaksTheHeader()
    {
        var template = Gen.OneOf(
            Gen.Int[0, Pieces.Length - 1].Select(i => Pieces[i]).Array[0, 8].Select(string.Concat),
            Gen.String);
        var hostile = Gen.OneOf(Gen.String, Gen.Int[0, Pieces.Length - 1].Select(i => Pieces[i]).Array[0, 6].Select(string.Concat));

        Gen.Select(template, hostile, hostile).Sample((text, value, path) =>
        {
            if (!VariableTemplate.TryParse(text, captures: 2, out var parsed, out _))
            {
                return;
            }

            var context = new DefaultHttpContext();
            context.Request.Headers["X-User"] = value;
            context.Request.Headers.Cookie = "sid=" + value;
            context.Request.QueryString = new QueryString("?q=" + Uri.EscapeDataString(value));
            var captures = Regex.Match(path, "(.?)(.*)", RegexOptions.Singleline);

            var header = parsed.ExpandHeader(new VariableScope(context, path, captures));

            Assert.DoesNotContain('\r', header);
            Assert.DoesNotContain('\n', header);
            Assert.DoesNotContain('\0', header);
        }, iter: 10_000);
    }
}
