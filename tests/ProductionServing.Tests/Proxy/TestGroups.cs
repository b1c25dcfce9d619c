using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using ProductionServing.Diagnostics;
using ProductionServing.Proxy;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Upstream groups built directly, without a host or sockets, for the pure logic of balancing, health
/// and admission. Servers are named a, b, c… by position; their addresses are never connected to.
/// </summary>
internal static class TestGroups
{
    // Built once: a group needs a pool, but these tests never send through it.
    private static readonly UpstreamTransport Transport = new(TimeSpan.FromSeconds(5));

    /// <summary>
    /// The instruments of groups built without a host: the tests' one set for all (<see cref="Infrastructure.TestConfig.Metrics"/>),
    /// on a meter factory of its own, so nothing these tests do reaches a host's instruments.
    /// </summary>
    public static ServingMetrics Metrics => Infrastructure.TestConfig.Metrics;

    public static UpstreamServerOptions Server(int index, int weight = 1, bool backup = false, int? maxConnections = null) => new()
    {
        Address = $"http://10.0.0.{index + 1}:8080",
        Weight = weight,
        Backup = backup,
        MaxConnections = maxConnections,
    };

    /// <summary>A group's options over servers of the given weights (a, b, c… in order).</summary>
    public static UpstreamOptions Weighted(BalancingPolicy policy, params int[] weights)
    {
        var options = new UpstreamOptions { Balancing = policy, HashKey = policy == BalancingPolicy.Hash ? "$http_x_key" : null };
        for (var i = 0; i < weights.Length; i++)
        {
            options.Servers.Add(Server(i, weights[i]));
        }

        return options;
    }

    /// <summary>Compiles <paramref name="options"/> as the registry does, as a group of its own.</summary>
    public static UpstreamGroup Create(UpstreamOptions options, TimeProvider? time = null)
    {
        var servers = new UpstreamServer[options.Servers.Count];
        for (var i = 0; i < servers.Length; i++)
        {
            servers[i] = new UpstreamServer("test", new Uri(options.Servers[i].Address!));
            servers[i].Configure(options.Servers[i], options, onlyServer: servers.Length == 1);
        }

        return new UpstreamGroup("test", options, servers, Transport, new UpstreamGroup.WaitQueue(), time ?? TimeProvider.System, NullLogger.Instance, Metrics);
    }

    /// <summary>Compiles <paramref name="options"/> as the group <c>test</c> through <paramref name="registry"/>: a second build is a reload.</summary>
    public static UpstreamGroup Build(UpstreamRegistry registry, UpstreamOptions options)
    {
        var serving = new ProductionServingOptions();
        serving.Upstreams["test"] = options;
        return registry.Build(serving)["test"];
    }

    /// <summary>Acquires a server as a lone request would, and holds it (the caller releases it or not).</summary>
    public static (UpstreamServer? Server, AdmissionFailure Failure) Acquire(UpstreamGroup group, HttpContext? context = null, List<UpstreamServer>? tried = null)
    {
        var acquiring = group.AcquireAsync(context ?? new DefaultHttpContext(), "/", tried);
        if (!acquiring.IsCompleted)
        {
            throw new Xunit.Sdk.XunitException("Acquire waited in the queue; use AcquireAsync for that.");
        }

        return acquiring.Result;
    }

    /// <summary>The letters of the servers that <paramref name="count"/> sequential requests go to (each released before the next).</summary>
    public static string Sequence(UpstreamGroup group, int count, Func<int, HttpContext>? context = null)
    {
        var letters = new char[count];
        for (var i = 0; i < count; i++)
        {
            var (server, failure) = Acquire(group, context?.Invoke(i));
            Assert.True(server is not null, $"Request {i} got no server: {failure}.");
            letters[i] = Letter(group, server);
            group.Release(server);
        }

        return new string(letters);
    }

    /// <summary>a for the group's first server, b for the second…</summary>
    public static char Letter(UpstreamGroup group, UpstreamServer server)
    {
        for (var i = 0; i < group.Servers.Count; i++)
        {
            if (ReferenceEquals(group.Servers[i], server))
            {
                return (char)('a' + i);
            }
        }

        throw new Xunit.Sdk.XunitException($"{server.Name} is not a server of the group.");
    }

    /// <summary>Takes <paramref name="server"/> out as passive health would after enough failures.</summary>
    public static void TakeOut(UpstreamServer server, TimeProvider time)
    {
        for (var i = 0; i < server.MaxFails; i++)
        {
            server.ReportFailure(time.GetTimestamp(), time);
        }

        Assert.False(server.IsUp(time.GetTimestamp()));
    }
}
