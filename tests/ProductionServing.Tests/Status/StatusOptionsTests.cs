using System.Net;
using ProductionServing.Directives;
using ProductionServing.Status;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Status;

/// <summary>Validation of <c>Status</c> (its path, and each <c>Allow</c> entry named by index) and the client networks it compiles to.</summary>
public sealed class StatusOptionsTests
{
    [Fact]
    public void ValidStatus_IsAccepted()
    {
        Assert.Empty(TestConfig.Failures(Config("\"Path\": \"/_serving\", \"Allow\": [\"10.0.0.0/8\", \"192.168.1.7\", \"::1\", \"fd00::/8\", \" 127.0.0.1/32 \"]")));
        Assert.Empty(TestConfig.Failures(Config("\"Path\": \"/ops/status\"")));
    }

    [Theory]
    [InlineData("\"Allow\": []", "Status.Path: is required when Status is present")]
    [InlineData("\"Path\": \"_serving\"", "Status.Path: '_serving' must start with '/'")]
    [InlineData("\"Path\": \"/\"", "Status.Path: '/' must start with '/' and name a path below it")]
    [InlineData("\"Path\": \"/_serving/\"", "Status.Path: '/_serving/' must not end with '/'")]
    [InlineData("\"Path\": \"/a//b\"", "Status.Path: '/a//b' is not a plain decoded path")]
    [InlineData("\"Path\": \"/a/../b\"", "Status.Path: '/a/../b' is not a plain decoded path")]
    [InlineData("\"Path\": \"/a%20b\"", "Status.Path: '/a%20b' is not a plain decoded path")]
    [InlineData("\"Path\": \"/a?b\"", "Status.Path: '/a?b' must not have a query or a fragment")]
    public void BadPath_IsRefused_NamingTheKey(string settings, string expected)
    {
        var failure = Assert.Single(TestConfig.Failures(Config(settings)));
        Assert.StartsWith(expected, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void BadAllowEntries_AreEachRefused_NamingTheirIndex()
    {
        var failures = TestConfig.Failures(Config("\"Path\": \"/s\", \"Allow\": [\"10.0.0.0/8\", \"10.1\", \"10.0.0.0/33\", \"localhost\", \"\", \"fe80::1%eth0\", \"::/129\", \"10.0.0.0/-1\"]"));

        Assert.Equal(
        [
            "Status.Allow[1]: '10.1' is not an IP address or CIDR range",
            "Status.Allow[2]: '10.0.0.0/33' has a prefix length that is not a number from 0 to 32",
            "Status.Allow[3]: 'localhost' is not an IP address or CIDR range",
            "Status.Allow[4]: is empty",
            "Status.Allow[5]: 'fe80::1%eth0' is not an IP address or CIDR range",
            "Status.Allow[6]: '::/129' has a prefix length that is not a number from 0 to 128",
            "Status.Allow[7]: '10.0.0.0/-1' has a prefix length that is not a number from 0 to 32",
        ], failures.Select(f => f[..Math.Min(f.Length, f.IndexOf(';') < 0 ? f.Length : f.IndexOf(';'))].TrimEnd('.')));
    }

    [Theory]
    [InlineData("127.0.0.0/8", "127.1.2.3", true)]
    [InlineData("127.0.0.0/8", "128.0.0.1", false)]
    [InlineData("127.0.0.0/8", "::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.0/104", "10.200.0.1", true)] // an IPv4-mapped entry is an IPv4 network
    [InlineData("10.0.0.1/8", "10.9.9.9", true)] // bits past the prefix are ignored, as nginx does
    [InlineData("192.168.1.7", "192.168.1.7", true)]
    [InlineData("192.168.1.7", "192.168.1.8", false)]
    [InlineData("::1", "::1", true)]
    [InlineData("::1", "127.0.0.1", false)]
    [InlineData("fd00::/8", "fd12:3456::1", true)]
    [InlineData("fd00::/8", "fe80::1", false)]
    [InlineData("0.0.0.0/0", "8.8.8.8", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    public void Networks_ContainTheirAddresses(string entry, string client, bool contained)
    {
        var networks = ClientNetworks.Parse([entry]);

        Assert.Equal(contained, networks.Contains(IPAddress.Parse(client)));
    }

    [Fact]
    public void NoClientAddress_IsNotAllowed()
    {
        Assert.False(ClientNetworks.Parse(["0.0.0.0/0", "::/0"]).Contains(null));
    }

    private static string Config(string status) => ServingJson.Config("", section: $"\"Status\": {{ {status} }}");
}
