using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ProductionServing.Directives;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Directives;

/// <summary>
/// <c>Allow</c>, nginx's <c>allow …; deny all;</c>: a client outside every listed address and network gets 403
/// before the handler runs, for IPv4 and IPv6 clients alike, with an IPv4-mapped IPv6 client compared as IPv4.
/// Cases after nginx-tests access.t (IPv4 and IPv6 lists, "deny all" without an allow).
/// </summary>
public sealed class AllowTests
{
    [Fact]
    public async Task ClientInTheList_IsServed_OthersGet403_WithTheLocationsHeaders()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """
            { "Match": "/admin/", "App": {}, "Allow": [ "10.0.0.0/8", "192.168.1.7", "fd00::/8" ], "Headers": { "X-Admin": "yes" } },
            { "Match": "/ops/", "App": {}, "Allow": [ "127.0.0.0/8" ] },
            { "Match": "/closed/", "App": {}, "Allow": [] }
            """));

        using var refused = await host.Client.GetAsync("/admin/users");
        using var served = await host.Client.GetAsync("/ops/x");
        using var closed = await host.Client.GetAsync("/closed/x");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("403 Forbidden\n", await refused.Content.ReadAsStringAsync());
        Assert.Equal("yes", Assert.Single(refused.Headers.GetValues("X-Admin")));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, closed.StatusCode);
        Assert.Equal(1, host.AppInvocations);
        Assert.True(host.Logs.HasEvent(1120, "Match", "/admin/"));
        Assert.True(host.Logs.HasEvent(1120, "RemoteAddress", "127.0.0.1"));
    }

    [Fact]
    public async Task InternalRedirect_MeetsTheTargetsAllow_AsNginxRunsItsAccessPhaseAgain()
    {
        using var site = new StaticSite();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            $$"""
            { "Match": "/hand/", "App": {} },
            { "Match": "/vault/", "Internal": true, "Static": { "Alias": "{{ServingJson.Escape(site.Root)}}/" }, "Allow": [ "10.0.0.0/8" ] },
            { "Match": "/open/", "Internal": true, "Static": { "Alias": "{{ServingJson.Escape(site.Root)}}/" }, "Allow": [ "127.0.0.1" ] }
            """),
            afterServing: app => app.Use((HttpContext context, RequestDelegate _) =>
            {
                context.Response.Headers["X-Accel-Redirect"] = context.Request.Query["to"].ToString();
                return Task.CompletedTask;
            }));

        using var refused = await host.Client.GetAsync("/hand/x?to=/vault/hello.txt");
        using var served = await host.Client.GetAsync("/hand/x?to=/open/hello.txt");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("hello world", await served.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task IPv6Client_NotListed_Gets403_AndListed_IsServed()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(
            """
            { "Match": "/v4only/", "App": {}, "Allow": [ "127.0.0.1", "::ffff:10.0.0.0/104" ] },
            { "Match": "/v6/", "App": {}, "Allow": [ "::1" ] }
            """), address: IPAddress.IPv6Loopback);

        using var refused = await host.Client.GetAsync("/v4only/x");
        using var served = await host.Client.GetAsync("/v6/x");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Theory]
    [InlineData("::ffff:10.1.2.3", "10.0.0.0/8", true)]
    [InlineData("10.1.2.3", "::ffff:10.0.0.0/104", true)]
    [InlineData("::ffff:10.1.2.3", "::ffff:10.0.0.0/104", true)]
    [InlineData("::ffff:11.1.2.3", "10.0.0.0/8", false)]
    [InlineData("2001:db8::5", "2001:db8::/32", true)]
    [InlineData("2001:db9::5", "2001:db8::/32", false)]
    [InlineData("10.1.2.3", "2001:db8::/32", false)]
    [InlineData("0.0.0.0", "0.0.0.0/0", true)]
    [InlineData("2001:db8::1", "::/0", true)]
    [InlineData("::ffff:1.2.3.4", "0.0.0.0/0", true)]
    [InlineData("::ffff:10.1.2.3", "::/0", false)]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3", true)]
    public void MappedAddresses_CompareAsIPv4_OnBothSides(string client, string entry, bool allowed)
    {
        var directives = LocationDirectives.Compile(new LocationOptions { Allow = [entry] }, captures: 0)!;
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(client);

        Assert.Equal(allowed, directives.Allows(context));
    }

    [Fact]
    public void NoClientAddress_IsRefused()
    {
        var directives = LocationDirectives.Compile(new LocationOptions { Allow = ["0.0.0.0/0", "::/0"] }, captures: 0)!;

        Assert.False(directives.Allows(new DefaultHttpContext()));
    }
}
