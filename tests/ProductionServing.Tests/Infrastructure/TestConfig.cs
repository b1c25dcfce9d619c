using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductionServing.Configuration;
using ProductionServing.Diagnostics;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>Builds configuration and options the way an app does, from JSON text.</summary>
internal static class TestConfig
{
    /// <summary>Instruments for what is built outside a host (no test reads them: metrics tests read a host's own).</summary>
    public static ServingMetrics Metrics { get; } =
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(), new ProductionServing.Static.FileCacheBudget());

    public static IConfigurationRoot FromJson(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

    /// <summary>
    /// Binds and validates the <c>ProductionServing</c> section of <paramref name="json"/>; <paramref name="services"/>
    /// may add services the validator looks for (the ServiceDiscovery companion).
    /// </summary>
    public static ProductionServingOptions Options(string json, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection().AddProductionServing(FromJson(json).GetSection("ProductionServing"));
        services?.Invoke(collection);
        using var provider = collection.BuildServiceProvider();
        return provider.GetRequiredService<IOptionsFactory<ProductionServingOptions>>().Create(Microsoft.Extensions.Options.Options.DefaultName);
    }

    /// <summary>The validation failures for <paramref name="json"/> (empty when it is valid), with <paramref name="services"/> as in <see cref="Options"/>.</summary>
    public static IReadOnlyList<string> Failures(string json, Action<IServiceCollection>? services)
    {
        try
        {
            _ = Options(json, services);
            return [];
        }
        catch (OptionsValidationException ex)
        {
            return [.. ex.Failures];
        }
    }

    /// <summary>The validation failures for <paramref name="json"/> (empty when it is valid).</summary>
    public static IReadOnlyList<string> Failures(string json) => Failures(json, services: null);

    /// <summary>A snapshot compiled from locations given as their Match strings, each handled by the app.</summary>
    public static ServingSnapshot Snapshot(params string[] matches)
    {
        var options = new ProductionServingOptions();
        foreach (var match in matches)
        {
            options.Locations.Add(new LocationOptions { Match = match, App = new AppOptions() });
        }

        var result = new ProductionServingOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        Assert.True(result.Succeeded, result.FailureMessage);
        return ServingSnapshot.Compile(options, Environment());
    }

    /// <summary>A host environment rooted at an empty folder, for compiling snapshots outside a host.</summary>
    public static ServingEnvironment Environment(string? contentRoot = null)
    {
        var root = contentRoot ?? Path.Combine(Path.GetTempPath(), "ps-no-content-root");
        return new ServingEnvironment(root, Path.Combine(root, "wwwroot"), new ProductionServing.Static.FileCacheBudget(),
            new ProductionServing.Proxy.UpstreamRegistry(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, Metrics),
            new ProductionServing.Pools.PoolRegistry(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, Metrics),
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            Metrics);
    }
}
