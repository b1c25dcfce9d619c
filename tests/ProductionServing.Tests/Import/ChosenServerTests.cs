using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Tests.Import;

/// <summary>Which server block of several is converted.</summary>
public sealed class ChosenServerTests
{
    private const string TwoServers =
        """
        http {
            upstream api { server 127.0.0.1:9000; }
            client_max_body_size 10m;
            server {
                listen 80;
                server_name example.com www.example.com;
                return 301 https://$host$request_uri;
            }
            server {
                listen 443 ssl;
                server_name example.com;
                location / { root /srv; }
                location /api/ { proxy_pass http://api; }
            }
            server {
                server_name admin.example.com;
                location / { location /x/ { } }
            }
        }
        """;

    [Fact]
    public void Default_IsTheBlockWithTheMostLocations_TheFirstOfEquals()
    {
        var chosen = Choose(TwoServers, name: null);

        Assert.Equal(9, chosen.Server.Position.Line);
        Assert.Equal([4, 15], chosen.Others.Select(o => o.Position.Line));
        Assert.Equal(["upstream", "client_max_body_size", "server", "server", "server"], chosen.Http.Select(d => d.Name));
    }

    [Theory]
    [InlineData("www.example.com", 4)]
    [InlineData("ADMIN.example.com", 15)]
    [InlineData("example.com", 4)]
    public void Named_IsTheFirstBlockWithThatServerName(string name, int line)
    {
        Assert.Equal(line, Choose(TwoServers, name).Server.Position.Line);
    }

    [Fact]
    public void UnknownName_IsAnError_ListingTheBlocks()
    {
        var error = Assert.Throws<NginxConfigException>(() => Choose(TwoServers, "shop.example.com"));

        Assert.Equal("no server block has server_name shop.example.com; the server blocks are: example.com www.example.com; example.com; admin.example.com",
            error.Problem);
    }

    [Fact]
    public void FileOfServerBlocks_WithoutHttp_IsConverted()
    {
        var chosen = Choose("upstream b { server 127.0.0.1:1; }\nserver { location / { } }\nserver { }", name: null);

        // Such a file is included in an http block: its other top-level directives are http-level ones.
        Assert.Equal(2, chosen.Server.Position.Line);
        Assert.Equal(["upstream", "server", "server"], chosen.Http.Select(d => d.Name));
        Assert.Single(chosen.Others);
    }

    [Theory]
    [InlineData("events { }", "f:1:1: has no http or server block to convert")]
    [InlineData("events { }\nhttp { gzip on; }", "f:2:1: its http block has no server block to convert")]
    public void NothingToConvert_IsAnError(string text, string message)
    {
        Assert.Equal(message, Assert.Throws<NginxConfigException>(() => Choose(text, name: null)).Message);
    }

    private static ChosenServer Choose(string text, string? name) => ChosenServer.Choose(NginxConfigReader.Read(text, "f"), "f", name);
}
