using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Retries on another server (docs/proxy.md, <c>Retries</c>; nginx proxy_next_upstream "error timeout" with
/// "non_idempotent" off): a request that certainly was not sent (the connection failed) goes to the
/// next server whatever its method; after a reset or timeout only an idempotent request whose body was
/// not sent yet does. Cases after nginx-tests proxy_next_upstream.t and YARP's retry discussions.
/// </summary>
public sealed class RetryTests
{
    /// <summary>A first server that reads the request head and resets the connection, a second that answers "second".</summary>
    private static async Task<(RawUpstream Resetting, UpstreamHost Healthy)> ResettingThenHealthyAsync()
    {
        var resetting = RawUpstream.Start(static async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            RawUpstream.Reset(socket);
        });
        return (resetting, await UpstreamHost.NamedAsync("second"));
    }

    private static Task<ServingHost> ProxyAsync(string extra, params string[] addresses) =>
        ServingHost.StartAsync(ServingJson.PassAll("http://backend", ServingJson.Upstream("backend", extra, addresses)));

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PATCH")]
    public async Task ConnectFailure_IsRetriedOnTheNextServer_WhateverTheMethod(string method)
    {
        await using var second = await UpstreamHost.NamedAsync("second");
        await using var host = await ProxyAsync("\"MaxFails\": 0", RawUpstream.RefusingAddress(), second.Address);

        using var request = new HttpRequestMessage(new HttpMethod(method), "/r") { Content = method == "GET" ? null : new StringContent("body") };
        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("second", await response.Content.ReadAsStringAsync());
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 3009);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    [InlineData("DELETE")]
    public async Task ResetBeforeResponse_RetriesIdempotentRequests(string method)
    {
        var (resetting, healthy) = await ResettingThenHealthyAsync();
        await using var first = resetting;
        await using var second = healthy;
        await using var host = await ProxyAsync("\"MaxFails\": 0", first.Address, second.Address);

        using var response = await host.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/r"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, first.Connections);
        Assert.Single(second.Requests);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PATCH")]
    public async Task ResetBeforeResponse_NeverRetriesANonIdempotentRequest(string method)
    {
        var (resetting, healthy) = await ResettingThenHealthyAsync();
        await using var first = resetting;
        await using var second = healthy;
        await using var host = await ProxyAsync("\"MaxFails\": 0", first.Address, second.Address);

        using var response = await host.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/r") { Content = new StringContent("x") });

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Empty(second.Requests);
    }

    [Fact]
    public async Task ResetAfterTheBodyWasSent_DoesNotRetryEvenAPut()
    {
        // PUT is idempotent, but its body was read from the client and cannot be sent again.
        await using var first = RawUpstream.Start(static async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            RawUpstream.Reset(socket);
        });
        await using var second = await UpstreamHost.NamedAsync("second");
        await using var host = await ProxyAsync("\"MaxFails\": 0", first.Address, second.Address);

        using var response = await host.Client.PutAsync("/r", new StringContent("a body that went out with the head"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Empty(second.Requests);
    }

    [Fact]
    public async Task ReadTimeout_RetriesAGet_OnTheNextServer()
    {
        await using var stalling = RawUpstream.Start(static async (socket, token) =>
        {
            await RawUpstream.ReadHeadAsync(socket, token);
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, token);
        });
        await using var second = await UpstreamHost.NamedAsync("second");
        await using var host = await ProxyAsync("\"MaxFails\": 0, \"ReadTimeout\": \"00:00:00.300\"", stalling.Address, second.Address);

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("second", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RetriesZero_AnswersTheFirstFailure()
    {
        await using var second = await UpstreamHost.NamedAsync("second");
        await using var host = await ProxyAsync("\"MaxFails\": 0, \"Retries\": 0", RawUpstream.RefusingAddress(), second.Address);

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Empty(second.Requests);
    }

    [Fact]
    public async Task Retries_AreBounded_ByTheSetting()
    {
        // Three refusing servers and Retries 1: two attempts, then 502; the third server is not tried.
        var refusing = new[] { RawUpstream.RefusingAddress(), RawUpstream.RefusingAddress(), RawUpstream.RefusingAddress() };
        await using var host = await ProxyAsync("\"MaxFails\": 0, \"Retries\": 1", refusing);

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(2, host.Logs.GetSnapshot().Count(r => r.Id.Id == 3001));
    }

    [Fact]
    public async Task ErrorStatusFromTheUpstream_IsAnAnswer_NotAFailure()
    {
        // nginx retries http_500 only when told to; a 500 is the upstream's answer and goes to the client.
        await using var first = await UpstreamHost.StartAsync(static context =>
        {
            context.Response.StatusCode = 500;
            return context.Response.WriteAsync("upstream says no");
        });
        await using var second = await UpstreamHost.NamedAsync("second");
        await using var host = await ProxyAsync("", first.Address, second.Address);

        using var response = await host.Client.GetAsync("/r");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("upstream says no", await response.Content.ReadAsStringAsync());
        Assert.Empty(second.Requests);
    }
}
