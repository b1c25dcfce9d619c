using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ProductionServing;
using ProductionServing.Configuration;
using ProductionServing.Diagnostics;
using ProductionServing.Health;
using ProductionServing.Pools;
using ProductionServing.Proxy;
using ProductionServing.Static;
using ProductionServing.Status;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ProductionServing's services.</summary>
public static class ProductionServingServiceCollectionExtensions
{
    /// <summary>
    /// Adds ProductionServing configured from a configuration section (usually
    /// <c>builder.Configuration.GetSection("ProductionServing")</c>), reloaded when the section changes.
    /// </summary>
    /// <param name="services">The service collection to add to.</param>
    /// <param name="configuration">The <c>ProductionServing</c> section, with the schema of <see cref="ProductionServingOptions"/>.</param>
    /// <returns>The same service collection, for chaining.</returns>
    /// <remarks>
    /// Binding is strict: an unknown key or a malformed value is a startup error naming its key path.
    /// May be combined with <see cref="AddProductionServing(IServiceCollection, Action{ProductionServingOptions})"/>,
    /// whose code runs after binding. An invalid configuration on reload is logged as an error and the
    /// last good one stays in force.
    /// </remarks>
    public static IServiceCollection AddProductionServing(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services);
        services.AddSingleton<IConfigureOptions<ProductionServingOptions>>(new ServingSectionBinder(configuration));
        services.AddSingleton<IOptionsChangeTokenSource<ProductionServingOptions>>(
            new ConfigurationChangeTokenSource<ProductionServingOptions>(configuration));
        return services;
    }

    /// <summary>Adds ProductionServing configured in code.</summary>
    /// <param name="services">The service collection to add to.</param>
    /// <param name="configure">Sets up the options; runs after any configuration section is bound.</param>
    /// <returns>The same service collection, for chaining.</returns>
    public static IServiceCollection AddProductionServing(this IServiceCollection services, Action<ProductionServingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        AddCore(services);

        // PostConfigure, so that code runs after binding whichever overload is called first.
        services.PostConfigure(configure);
        return services;
    }

    private static void AddCore(IServiceCollection services)
    {
        services.AddOptions();
        services.AddMetrics();
        services.TryAddSingleton<ServingMetrics>();
        services.TryAddSingleton<RequestObserver>();
        services.TryAddSingleton<FileCacheBudget>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<UpstreamRegistry>();
        services.TryAddSingleton<PoolRegistry>();
        services.TryAddSingleton<StatusMonitor>();
        services.TryAddSingleton<AccessLogFiles>();

        // Enumerable, so that calling AddProductionServing twice still runs one set of health checks.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, UpstreamHealthChecks>());
        services.TryAddSingleton<ServingShutdown>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ServingShutdown>(static provider => provider.GetRequiredService<ServingShutdown>()));

        // The same instance as the compiled configurations hold: on shutdown it drains their file.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AccessLogFiles>(static provider => provider.GetRequiredService<AccessLogFiles>()));
        services.TryAddSingleton(static provider =>
        {
            var host = provider.GetService<IHostEnvironment>();
            var contentRoot = host?.ContentRootPath is { Length: > 0 } root ? root : Directory.GetCurrentDirectory();
            var webRoot = provider.GetService<IWebHostEnvironment>()?.WebRootPath is { Length: > 0 } web ? web : Path.Combine(contentRoot, "wwwroot");
            return new ServingEnvironment(contentRoot, webRoot, provider.GetRequiredService<FileCacheBudget>(),
                provider.GetRequiredService<UpstreamRegistry>(), provider.GetRequiredService<PoolRegistry>(), provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILoggerFactory>(), provider.GetRequiredService<ServingMetrics>())
            {
                AccessLogs = provider.GetRequiredService<AccessLogFiles>(),
            };
        });
        services.TryAddSingleton<ServingConfigHolder>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProductionServingOptions>, ProductionServingOptionsValidator>());
    }
}
