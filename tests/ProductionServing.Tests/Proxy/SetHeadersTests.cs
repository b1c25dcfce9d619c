using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// <c>Proxy.SetHeaders</c>, nginx's <c>proxy_set_header</c>: set after the standard forwarding headers (and so
/// able to replace them), values with variables and the location's captures, an empty value (configured, or
/// expanded to nothing) not sent at all. Cases after nginx-tests proxy_set_header.t.
/// </summary>
public sealed class SetHeadersTests
{
    [Fact]
    public async Task NginxsUsualHeaders_ReachTheUpstream()
    {
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""
            { "Match": "/", "Proxy": { "Pass": "{{upstream.Address}}", "SetHeaders": {
                "Host": "$host", "X-Real-IP": "$remote_addr", "X-Forwarded-For": "$remote_addr",
                "X-Request-ID": "$request_id", "X-Original-URI": "$request_uri" } } }
            """));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/a/b?c=%20d");
        request.Headers.Host = "Shop.Example:8443";
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9");

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = upstream.Last;
        Assert.Equal("shop.example", forwarded.Header("Host"));
        Assert.Equal("127.0.0.1", forwarded.Header("X-Real-IP"));
        Assert.Equal("127.0.0.1", forwarded.Header("X-Forwarded-For"));
        Assert.Matches("^[0-9a-f]{32}$", forwarded.Header("X-Request-ID"));
        Assert.Equal("/a/b?c=%20d", forwarded.Header("X-Original-URI"));
    }

    [Fact]
    public async Task EmptyValue_AndAnEmptyExpansion_AreNotSent()
    {
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""
            { "Match": "/", "Proxy": { "Pass": "{{upstream.Address}}", "SetHeaders": {
                "Accept-Encoding": "", "X-Forwarded-Host": "", "X-Api-Key": "$http_x_client_key", "Content-Type": "application/x-set" } } }
            """));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/p") { Content = new StringContent("body") };
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = upstream.Last;
        Assert.Null(forwarded.Header("Accept-Encoding"));
        Assert.Null(forwarded.Header("X-Forwarded-Host"));
        Assert.Null(forwarded.Header("X-Api-Key"));
        Assert.Equal("application/x-set", forwarded.Header("Content-Type"));
    }

    [Fact]
    public async Task Captures_OfARegexLocation_FillTheValues()
    {
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "~ ^/tenants/(\\w+)/", "Proxy": { "Pass": "{{upstream.Address}}", "SetHeaders": { "X-Tenant": "$1" } } }"""));

        using var response = await host.Client.GetAsync("/tenants/acme/orders");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("acme", upstream.Last.Header("X-Tenant"));
        Assert.Equal("/tenants/acme/orders", upstream.Last.RawTarget);
    }

    [Fact]
    public async Task DecodedVariable_WithCharactersAHeaderCannotCarry_IsPercentEncoded()
    {
        // $uri is decoded: "é" would make HttpClient refuse the request (headers are ASCII), a 502 on every request.
        await using var upstream = await UpstreamHost.NamedAsync("ok");
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""{ "Match": "/", "Proxy": { "Pass": "{{upstream.Address}}", "SetHeaders": { "X-Original-Path": "$uri" } } }"""));

        using var response = await host.Client.GetAsync("/caf%C3%A9/menu");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/caf%C3%A9/menu", upstream.Last.Header("X-Original-Path"));
    }
}
