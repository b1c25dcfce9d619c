using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// The proxy's <c>Server-Timing</c> fields (W3C Server Timing; <c>ServerTiming: true</c>): <c>connect</c> when
/// the attempt opened a connection, <c>upstream</c> with the time to the response headers and the server,
/// and an <c>upstream</c> field for each failed attempt before, described by its server and
/// <c>error.type</c>. They come after the upstream's own fields, which pass unchanged.
/// </summary>
public sealed partial class ServerTimingTests
{
    [Fact]
    public async Task NewConnection_GetsConnectAndUpstream_AReusedOneUpstreamOnly_AfterTheUpstreamsOwn()
    {
        await using var upstream = await UpstreamHost.StartAsync(static context =>
        {
            context.Response.Headers.Append("Server-Timing", "db;dur=5");
            return context.Response.WriteAsync("a");
        });
        await using var host = await ProxyAsync(true, upstream.Address);
        var server = Name(upstream.Address);

        var first = await TimingsAsync(host);
        var second = await TimingsAsync(host);

        Assert.Equal(3, first.Length);
        Assert.Equal("db;dur=5", first[0]);
        Assert.Matches(ConnectField(), first[1]);
        Assert.Matches(UpstreamField(server), first[2]);
        Assert.Equal(2, second.Length);
        Assert.Equal("db;dur=5", second[0]);
        Assert.Matches(UpstreamField(server), second[1]);
    }

    [Fact]
    public async Task RetriedRequest_GetsAFieldForTheFailedAttempt_ThenTheOneThatAnswered()
    {
        var refusing = RawUpstream.RefusingAddress();
        await using var second = await UpstreamHost.NamedAsync("second");
        await using var host = await ProxyAsync(true, refusing, second.Address);

        var fields = await TimingsAsync(host);

        Assert.Equal(3, fields.Length);
        Assert.Matches(UpstreamField(Name(refusing) + " upstream_connect"), fields[0]);
        Assert.Matches(ConnectField(), fields[1]);
        Assert.Matches(UpstreamField(Name(second.Address)), fields[2]);
    }

    [Fact]
    public async Task Off_ByDefault()
    {
        await using var upstream = await UpstreamHost.NamedAsync("a");
        await using var host = await ProxyAsync(false, upstream.Address);

        Assert.Empty(await TimingsAsync(host));
    }

    private static Task<ServingHost> ProxyAsync(bool serverTiming, params string[] addresses) => ServingHost.StartAsync(ServingJson.Config(
        ServingJson.ProxyLocation("/", "http://backend"), ServingJson.Upstream("backend", "\"MaxFails\": 0", addresses),
        section: serverTiming ? "\"ServerTiming\": true" : ""));

    private static async Task<string[]> TimingsAsync(ServingHost host)
    {
        using var response = await host.Client.GetAsync("/r");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.NonValidated.TryGetValues("Server-Timing", out var values) ? [.. values] : [];
    }

    private static string Name(string address) => new Uri(address).Authority;

    private static Regex UpstreamField(string description) =>
        new("^upstream;dur=[0-9]+(\\.[0-9]+)?;desc=\"" + Regex.Escape(description) + "\"$", RegexOptions.None, TimeSpan.FromSeconds(1));

    [GeneratedRegex("^connect;dur=[0-9]+(\\.[0-9]+)?$")]
    private static partial Regex ConnectField();
}
