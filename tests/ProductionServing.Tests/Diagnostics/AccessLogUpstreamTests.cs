using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Diagnostics;

/// <summary>
/// The access log of proxied requests: the body bytes copied from the upstream, and nginx's
/// <c>$upstream_addr</c>, <c>$upstream_status</c> and <c>$upstream_response_time</c> as <c>ua=</c>, <c>us=</c> and
/// <c>urt=</c>, one entry per server tried. The upstream fields come from the proxy's attempt records.
/// </summary>
public sealed class AccessLogUpstreamTests
{
    private static Task<ServingHost> ProxyAsync(string upstreams) =>
        ServingHost.StartAsync(ServingJson.Config(ServingJson.ProxyLocation("/", "http://backend"), upstreams, section: "\"AccessLog\": {}"));

    [Fact]
    public async Task ProxiedResponse_BytesCopiedFromTheUpstream_AreCounted()
    {
        var body = new string('x', 100_000);
        await using var upstream = await UpstreamHost.StartAsync(context => context.Response.WriteAsync(body));
        await using var host = await ProxyAsync(ServingJson.Upstream("backend", "", upstream.Address));

        Assert.Equal(body, await host.Client.GetStringAsync(new Uri("/big", UriKind.Relative)));

        Assert.Contains("\"GET /big HTTP/1.1\" 200 100000 ", await AccessLogLines.WaitForLastAsync(host, 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProxiedRequest_LogsTheUpstreamsAddressStatusAndTime()
    {
        await using var upstream = await UpstreamHost.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status201Created;
            return context.Response.WriteAsync("made");
        });
        await using var host = await ProxyAsync(ServingJson.Upstream("backend", "", upstream.Address));

        using var response = await host.Client.PostAsync(new Uri("/things", UriKind.Relative), new StringContent("thing"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var line = await AccessLogLines.WaitForLastAsync(host, 1);
        var expected = $"\"POST /things HTTP/1.1\" 201 4 \"-\" \"-\" rt=\\d+\\.\\d{{3}} ua=\"127\\.0\\.0\\.1:{upstream.Port}\" us=\"201\" urt=\"\\d+\\.\\d{{3}}\" loc=\"/\" qt=- et=-$";
        Assert.True(Regex.IsMatch(line, expected), $"Expected to match {expected}:{Environment.NewLine}{line}");
    }

    [Fact]
    public async Task RetriedRequest_LogsEveryServerTried_AsNginxSeparatesThem()
    {
        var refusing = RawUpstream.RefusingAddress();
        await using var second = await UpstreamHost.NamedAsync("second");
        await using var host = await ProxyAsync(ServingJson.Upstream("backend", "\"MaxFails\": 0", refusing, second.Address));

        Assert.Equal("second", await host.Client.GetStringAsync(new Uri("/r", UriKind.Relative)));

        // nginx records 502 for an attempt whose connection failed (ngx_http_upstream_next).
        var refusingPort = new Uri(refusing).Port;
        var line = await AccessLogLines.WaitForLastAsync(host, 1);
        var expected = $"\"GET /r HTTP/1.1\" 200 6 \"-\" \"-\" rt=\\d+\\.\\d{{3}} ua=\"127\\.0\\.0\\.1:{refusingPort}, 127\\.0\\.0\\.1:{second.Port}\" us=\"502, 200\" urt=\"\\d+\\.\\d{{3}}, \\d+\\.\\d{{3}}\" loc=\"/\" qt=- et=-$";
        Assert.True(Regex.IsMatch(line, expected), $"Expected to match {expected}:{Environment.NewLine}{line}");
    }
}
