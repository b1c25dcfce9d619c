using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>What proxy tests through a real host read of it: the live upstream group.</summary>
internal static class ProxyTestHosts
{
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
