using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductionServing.Discovery;

namespace ProductionServing.Configuration;

/// <summary>
/// Checks the whole configuration at once and reports every problem, each as
/// <c>"&lt;key path&gt;: &lt;problem and fix&gt;"</c>, so a bad file takes one restart to fix, not one per
/// mistake. Runs at startup and on every reload (where a failure keeps the last good configuration).
/// </summary>
/// <param name="services">
/// Tells whether a companion package registered an <see cref="IUpstreamDiscovery"/>, which an upstream's
/// <c>Discover</c> needs; asked without building the discovery, which validation has no use for.
/// </param>
internal sealed class ProductionServingOptionsValidator(IServiceProviderIsService? services = null) : IValidateOptions<ProductionServingOptions>
{
    private readonly bool _canDiscover = services?.IsService(typeof(IUpstreamDiscovery)) ?? false;

    public ValidateOptionsResult Validate(string? name, ProductionServingOptions options)
    {
        if (name != Options.DefaultName)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>(options.BindingErrors);
        LocationRules.Validate(options, errors);
        foreach (var (upstreamName, upstream) in options.Upstreams)
        {
            UpstreamRules.Validate($"Upstreams.{upstreamName}", upstream, _canDiscover, errors);
        }

        foreach (var (poolName, pool) in options.Pools)
        {
            PoolRules.Validate($"Pools.{poolName}", pool, errors);
        }

        if (options.FileCache is null)
        {
            errors.Add("FileCache: must not be null; leave it out for the defaults.");
        }
        else
        {
            Rules.AtLeast(errors, "FileCache.MaxFileSize", options.FileCache.MaxFileSize, 0);
            if (options.FileCache.SizeLimit < 0)
            {
                errors.Add($"FileCache.SizeLimit: must be at least 0 (got {options.FileCache.SizeLimit}).");
            }
        }

        AccessLogRules.Validate(options.AccessLog, errors);
        if (options.TrustedProxies is null)
        {
            errors.Add("TrustedProxies: must not be null; leave it out to trust no client's X-Forwarded-* headers.");
        }
        else
        {
            for (var i = 0; i < options.TrustedProxies.Count; i++)
            {
                if (!Directives.ClientNetworks.TryParse(options.TrustedProxies[i], out _, out var problem))
                {
                    errors.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"TrustedProxies[{i}]: {problem}"));
                }
            }
        }

        if (options.Shutdown is null)
        {
            errors.Add("Shutdown: must not be null; leave it out for the defaults.");
        }
        else
        {
            Rules.NotNegative(errors, "Shutdown.DrainDelay", options.Shutdown.DrainDelay);
        }

        if (options.Status is { } status)
        {
            StatusRules.Validate(status, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
