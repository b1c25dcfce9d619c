using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>Helpers for proxy tests through a real host: configuration, the live group, refused ports, bounded polling.</summary>
internal static class ProxyTestHosts
{

    /// <summary>Configuration with one location <c>/</c> forwarding to the upstream <c>backend</c>, given as its JSON object.</summary>
    public static string Config(string backend) => ProxyTestConfig.PassAll("http://backend", "\"backend\": " + backend);

    /// <summary>A <c>Servers</c> entry for <paramref name="address"/> with extra JSON properties (e.g. <c>"Weight": 2</c>).</summary>
    public static string Server(string address, string extra = "") =>
        extra.Length == 0 ? $$"""{ "Address": "{{address}}" }""" : $$"""{ "Address": "{{address}}", {{extra}} }""";

    /// <summary>The compiled group <c>backend</c> of the snapshot in force.</summary>
    public static UpstreamGroup Backend(ServingHost host)
    {
        foreach (var group in host.App.Services.GetRequiredService<UpstreamRegistry>().Groups)
        {
            if (group.Name == "backend")
            {
                return group;
            }
        }

        throw new Xunit.Sdk.XunitException("No upstream group named backend.");
    }
}
