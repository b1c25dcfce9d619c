using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Configuration;

/// <summary>Each location directive's bad values fail at startup with a message naming the key and the fix.</summary>
public sealed class DirectiveValidationTests
{
    [Theory]
    [InlineData("""{ "Match": "/", "Return": { "Status": 700 } }""", "Locations[0].Return.Status: must be an HTTP status from 200 to 599 (got 700)")]
    [InlineData("""{ "Match": "/", "Return": {} }""", "Locations[0].Return.Status: must be an HTTP status from 200 to 599 (got 0)")]
    [InlineData("""{ "Match": "/", "Return": { "Status": 301 } }""", "Locations[0].Return.Location: is required for a 301 redirect")]
    [InlineData("""{ "Match": "/", "Return": { "Status": 302, "Location": "/x", "Body": "moved" } }""", "Locations[0].Return.Body: a 302 redirect has no body")]
    [InlineData("""{ "Match": "/", "Return": { "Status": 200, "Location": "/x" } }""", "Locations[0].Return.Location: is only for the redirect statuses")]
    [InlineData("""{ "Match": "/", "Return": { "Status": 204, "Body": "x" } }""", "Locations[0].Return.Body: a 204 response has no body")]
    [InlineData("""{ "Match": "/", "Return": { "Status": 301, "Location": "https://$hots$request_uri" } }""", "Locations[0].Return.Location: $hots is not a variable")]
    [InlineData("""{ "Match": "/", "Return": { "Status": 200, "Body": "user $1" } }""", "Locations[0].Return.Body: $1 is a capture, but there is no regex")]
    [InlineData("""{ "Match": "~ ^/u/(\\d+)$", "Return": { "Status": 200, "Body": "$2" } }""", "Locations[0].Return.Body: $2 names a capture the location's regex does not have (it has 1 group)")]
    [InlineData("""{ "Match": "/", "Return": { "Status": 200, "Body": "x", "ContentType": "not a type" } }""", "Locations[0].Return.ContentType: 'not a type' is not a media type")]
    [InlineData("""{ "Match": "/", "Return": { "Status": 200 }, "App": {} }""", "Locations[0]: has 2 handlers (App, Return); set exactly one.")]
    [InlineData("""{ "Match": "/", "App": {}, "Headers": { "Bad Name": "x" } }""", "Locations[0].Headers: 'Bad Name' is not a header name")]
    [InlineData("""{ "Match": "/", "App": {}, "Headers": { "X-A": "a\r\nSet-Cookie: x=1" } }""", "Locations[0].Headers.X-A: must be a single header line (no CR, LF or NUL).")]
    [InlineData("""{ "Match": "/", "App": {}, "Headers": { "Content-Length": "5" } }""", "Locations[0].Headers.Content-Length: is set by the server for each response")]
    [InlineData("""{ "Match": "/", "App": {}, "Headers": { "X-U": "$url" } }""", "Locations[0].Headers.X-U: $url is not a variable")]
    [InlineData("""{ "Match": "/", "App": {}, "MaxBodySize": -1 }""", "Locations[0].MaxBodySize: must be a number of bytes, 0 for unlimited (got -1)")]
    [InlineData("""{ "Match": "/", "App": {}, "MaxBodySize": "50m" }""", "Locations[0].MaxBodySize: '50m' is not a whole number.")]
    [InlineData("""{ "Match": "/", "App": {}, "Allow": [ "10.0.0.0/33" ] }""", "Locations[0].Allow[0]: '10.0.0.0/33' has a prefix length that is not a number from 0 to 32.")]
    [InlineData("""{ "Match": "/", "App": {}, "Allow": [ "127.0.0.1", "localhost" ] }""", "Locations[0].Allow[1]: 'localhost' is not an IP address or CIDR range")]
    [InlineData("""{ "Match": "/", "App": {}, "Allow": [ "" ] }""", "Locations[0].Allow[0]: is empty")]
    [InlineData("""{ "Match": "/", "Proxy": { "Pass": "http://127.0.0.1:1", "SetHeaders": { "Connection": "upgrade" } } }""", "Locations[0].Proxy.SetHeaders.Connection: is set by the server for each upstream request")]
    [InlineData("""{ "Match": "/", "Proxy": { "Pass": "http://127.0.0.1:1", "SetHeaders": { "Host": "" } } }""", "Locations[0].Proxy.SetHeaders.Host: cannot be removed")]
    [InlineData("""{ "Match": "/", "Proxy": { "Pass": "http://127.0.0.1:1", "SetHeaders": { "X-A": "$cookie_" } } }""", "Locations[0].Proxy.SetHeaders.X-A: $cookie_ is not a variable")]
    [InlineData("""{ "Match": "/", "App": {}, "Headers": { "Content-Disposition": "attachment; filename=résumé.pdf" } }""", "Locations[0].Headers.Content-Disposition: has 'é' (U+00E9), which a header value cannot carry")]
    [InlineData("""{ "Match": "/", "Return": { "Status": 302, "Location": "/café" } }""", "Locations[0].Return.Location: has 'é' (U+00E9)")]
    [InlineData("""{ "Match": "/", "App": {}, "Allow": [ "010.0.0.1" ] }""", "Locations[0].Allow[0]: '010.0.0.1' is not an IP address or CIDR range")]
    [InlineData("""{ "Match": "/", "App": {}, "Allow": [ "0x0a.0.0.0/8" ] }""", "Locations[0].Allow[0]: '0x0a.0.0.0/8' is not an IP address or CIDR range")]
    [InlineData("""{ "Match": "/", "App": {}, "Allow": [ "10.0.0.256" ] }""", "Locations[0].Allow[0]: '10.0.0.256' is not an IP address or CIDR range")]
    public void BadDirective_IsRefused_NamingItsKey(string location, string expected)
    {
        var failures = TestConfig.Failures(ServingJson.Config(location));

        Assert.Contains(failures, f => f.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void MalformedMatch_IsReported_WithoutACaptureErrorAsWell()
    {
        var failures = TestConfig.Failures(ServingJson.Config("""{ "Match": "~ ^/(a", "Return": { "Status": 200, "Body": "$1" } }"""));

        Assert.Contains(failures, f => f.StartsWith("Locations[0].Match:", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("$1", StringComparison.Ordinal));
    }

    [Fact]
    public void WellFormedDirectives_AreAccepted()
    {
        var failures = TestConfig.Failures(ServingJson.Config(
            """
            { "Match": "~ ^/(\\w+)/(\\d+)$", "Return": { "Status": 301, "Location": "https://$host/$2/${1}s?$args" }, "Allow": [ "10.0.0.0/8", "::1", "0.0.0.0/0", "192.168.100.1" ] },
            { "Match": "/up/", "Proxy": { "Pass": "http://127.0.0.1:1", "SetHeaders": { "Host": "$host", "X-Real-IP": "$remote_addr", "Accept-Encoding": "" } },
              "Headers": { "X-Frame-Options": "DENY", "ETag": "" }, "MaxBodySize": 0 }
            """));

        Assert.Empty(failures);
    }
}
