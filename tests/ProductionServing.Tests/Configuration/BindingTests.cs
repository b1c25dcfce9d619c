using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Configuration;

/// <summary>How the <c>ProductionServing</c> section binds: strictly, with key paths, and with JSON's meaning of {} and [].</summary>
public sealed class BindingTests
{
    [Theory]
    [InlineData("""{ "Location": [] }""", "Location: unknown setting; expected one of Locations, Upstreams, Pools, FileCache, Status, AccessLog, ServerTiming, TrustedProxies, Shutdown.")]
    [InlineData("""{ "Locations": [ { "Match": "/", "Statik": {} } ] }""", "Locations[0].Statik: unknown setting; expected one of Match, Internal, AccessLog, Static, Proxy, App, Return, Headers, MaxBodySize, Allow, RateLimit, Compress.")]
    [InlineData("""{ "Locations": [ { "Match": "/", "App": { "Pol": "x" } } ] }""", "Locations[0].App.Pol: unknown setting; expected one of Pool.")]
    [InlineData("""{ "Upstreams": { "b": { "Servers": [ { "Adress": "http://127.0.0.1:1" } ] } } }""", "Upstreams.b.Servers[0].Adress: unknown setting; expected one of Address, Weight, Backup, MaxConnections.")]
    [InlineData("""{ "Upstreams": { "b": { "Discovery": "http://catalog" } } }""", "Upstreams.b.Discovery: unknown setting; expected one of Servers, Discover, Balancing, HashKey, MaxFails, FailTimeout, HealthCheck, Retries, ConnectTimeout, ReadTimeout, QueueLimit, QueueTimeout.")]
    [InlineData("""{ "Pools": { "p": { "Worker": 4 } } }""", "Pools.p.Worker: unknown setting; expected one of MaxConcurrency, QueueLimit, QueueTimeout, Workers, DedicatedThreads, RequestTimeout, QueueOrder, TargetQueueDelay.")]
    public void UnknownKey_IsRefusedWithItsPath(string section, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures($$"""{ "ProductionServing": {{section}} }"""));
    }

    [Theory]
    [InlineData("""{ "Locations": [ { "Match": "/", "Internal": "yes", "App": {} } ] }""", "Locations[0].Internal: 'yes' is not true or false.")]
    [InlineData("""{ "Pools": { "p": { "MaxConcurrency": "many" } } }""", "Pools.p.MaxConcurrency: 'many' is not a whole number.")]
    [InlineData("""{ "Pools": { "p": { "MaxConcurrency": 1.5 } } }""", "Pools.p.MaxConcurrency: '1.5' is not a whole number.")]
    [InlineData("""{ "Pools": { "p": { "MaxConcurrency": null } } }""", "Pools.p.MaxConcurrency: needs a value.")]
    [InlineData("""{ "Pools": { "p": { "QueueTimeout": "10s" } } }""", "Pools.p.QueueTimeout: '10s' is not a duration; write it as hh:mm:ss (for example 00:00:05) or hh:mm:ss.fff.")]
    [InlineData("""{ "Pools": { "p": { "QueueTimeout": "10" } } }""", "Pools.p.QueueTimeout: '10' is not a duration; write it as hh:mm:ss (for example 00:00:05) or hh:mm:ss.fff.")]
    [InlineData("""{ "Pools": { "p": { "QueueOrder": "+1" } } }""", "Pools.p.QueueOrder: '+1' is not one of Fifo, AdaptiveLifo.")]
    [InlineData("""{ "Upstreams": { "b": { "Balancing": "RoundRobin,Hash", "Servers": [ { "Address": "http://127.0.0.1:1" } ] } } }""", "Upstreams.b.Balancing: 'RoundRobin,Hash' is not one of RoundRobin, LeastRequests, PowerOfTwoChoices, Hash.")]
    [InlineData("""{ "Pools": { "p": { "QueueOrder": "Lifo" } } }""", "Pools.p.QueueOrder: 'Lifo' is not one of Fifo, AdaptiveLifo.")]
    [InlineData("""{ "Upstreams": { "b": { "Balancing": "Fastest", "Servers": [ { "Address": "http://127.0.0.1:1" } ] } } }""", "Upstreams.b.Balancing: 'Fastest' is not one of RoundRobin, LeastRequests, PowerOfTwoChoices, Hash.")]
    [InlineData("""{ "Upstreams": { "b": { "Balancing": "2", "Servers": [ { "Address": "http://127.0.0.1:1" } ] } } }""", "Upstreams.b.Balancing: '2' is not one of RoundRobin, LeastRequests, PowerOfTwoChoices, Hash.")]
    [InlineData("""{ "Locations": [ { "Match": "/", "Static": "wwwroot" } ] }""", "Locations[0].Static: expects an object, not the value 'wwwroot'.")]
    [InlineData("""{ "Locations": "everything" }""", "Locations: expects a list, not the value 'everything'.")]
    [InlineData("""{ "Locations": { "api": { "Match": "/api/" } } }""", "Locations: expects a list, but has the named entry 'api'.")]
    [InlineData("""{ "Locations": [ "/api/" ] }""", "Locations[0]: expects an object, not the value '/api/'.")]
    [InlineData("""{ "Locations": [ { "Match": { "Prefix": "/api/" }, "App": {} } ] }""", "Locations[0].Match: expects a single value, not an object or a list.")]
    [InlineData("""{ "Upstreams": { "b": "http://127.0.0.1:1" } }""", "Upstreams.b: expects an object, not the value 'http://127.0.0.1:1'.")]
    public void MalformedValue_IsRefusedWithItsPath(string section, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures($$"""{ "ProductionServing": {{section}} }"""));
    }

    [Fact]
    public void MalformedListElement_KeepsLaterIndexes()
    {
        var failures = TestConfig.Failures("""{ "ProductionServing": { "Locations": [ "/api/", { "Match": "~~ /x", "App": {} } ] } }""");

        Assert.Contains("Locations[0]: expects an object, not the value '/api/'.", failures);
        Assert.Contains("Locations[1].Match: unknown modifier '~~'; use =, ^~, ~ or ~*.", failures);
    }

    [Fact]
    public void EmptyObject_IsAHandlerWithDefaults()
    {
        var options = TestConfig.Options("""{ "ProductionServing": { "Locations": [ { "Match": "/", "App": {} } ] } }""");

        Assert.Equal("default", Assert.Single(options.Locations).App?.Pool);
    }

    [Fact]
    public void NullPool_RunsTheAppWithoutAPool()
    {
        var options = TestConfig.Options("""{ "ProductionServing": { "Locations": [ { "Match": "/", "App": { "Pool": null } } ] } }""");

        var app = Assert.Single(options.Locations).App;
        Assert.NotNull(app);
        Assert.Null(app.Pool);
    }

    [Fact]
    public void EnumNames_AreCaseInsensitive()
    {
        var failures = TestConfig.Failures("""{ "ProductionServing": { "Pools": { "p": { "QueueOrder": "adaptivelifo" } } } }""");

        Assert.DoesNotContain(failures, f => f.StartsWith("Pools.p.QueueOrder", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(""" "Index": [ "default.htm", "index.htm" ] """, new[] { "default.htm", "index.htm" })]
    [InlineData(""" "Index": [] """, new string[0])]
    [InlineData("", new[] { "index.html" })]
    [InlineData(""" "Index": null """, new[] { "index.html" })]
    public void ConfiguredList_ReplacesTheDefault(string index, string[] expected)
    {
        var options = new ProductionServingOptions();
        new ProductionServing.Configuration.ServingSectionBinder(
            TestConfig.FromJson($$"""{ "Locations": [ { "Match": "/", "Static": { {{index}} } } ] }""")).Configure(options);

        Assert.Empty(options.BindingErrors);
        Assert.Equal(expected, Assert.Single(options.Locations).Static!.Index);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CodeConfiguration_RunsAfterBinding_WhicheverIsAddedFirst(bool sectionFirst)
    {
        var section = TestConfig.FromJson("""{ "Locations": [ { "Match": "/from-json/", "App": {} } ] }""");
        var services = new ServiceCollection();
        void AddCode() => services.AddProductionServing(o => o.Locations.Add(new LocationOptions { Match = "/from-code/", App = new AppOptions() }));
        if (sectionFirst)
        {
            services.AddProductionServing(section);
            AddCode();
        }
        else
        {
            AddCode();
            services.AddProductionServing(section);
        }

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsFactory<ProductionServingOptions>>().Create(Options.DefaultName);

        Assert.Equal(["/from-json/", "/from-code/"], options.Locations.Select(l => l.Match));
    }
}
