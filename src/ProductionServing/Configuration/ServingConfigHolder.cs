using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using ProductionServing.Routing;
using ProductionServing.Status;

namespace ProductionServing.Configuration;

/// <summary>
/// Holds the current <see cref="ServingSnapshot"/> and rebuilds it when the configuration changes.
/// </summary>
/// <remarks>
/// Built from <see cref="IOptionsFactory{TOptions}"/> and the change token sources directly instead of
/// <see cref="IOptionsMonitor{TOptions}"/>: after an invalid reload the monitor's <c>CurrentValue</c>
/// throws and its <c>OnChange</c> stops firing (dotnet/runtime#44381), whereas here a bad reload is
/// logged and the last good snapshot stays in force. The first build throws, so a bad configuration
/// fails at startup.
/// </remarks>
internal sealed class ServingConfigHolder : IDisposable
{
    private readonly IOptionsFactory<ProductionServingOptions> _factory;
    private readonly ServingEnvironment _environment;
    private readonly ILogger<ServingConfigHolder> _logger;
    private readonly StatusMonitor _status;
    private readonly List<IDisposable> _registrations = [];
    private readonly Lock _rebuildLock = new();
    private ServingSnapshot _current;
    private bool _disposed;

    public ServingConfigHolder(
        IOptionsFactory<ProductionServingOptions> factory,
        IEnumerable<IOptionsChangeTokenSource<ProductionServingOptions>> changeSources,
        ServingEnvironment environment,
        StatusMonitor status,
        ILogger<ServingConfigHolder> logger)
    {
        _factory = factory;
        _environment = environment;
        _status = status;
        _logger = logger;

        // Tokens are taken before the first build, so a change made while it runs is not lost.
        var sources = new List<IOptionsChangeTokenSource<ProductionServingOptions>>();
        var tokens = new List<IChangeToken>();
        foreach (var source in changeSources)
        {
            if (source.Name == Options.DefaultName)
            {
                sources.Add(source);
                tokens.Add(source.GetChangeToken());
            }
        }

        _current = ServingSnapshot.Compile(_factory.Create(Options.DefaultName), environment);
        ConfigLog.Loaded(logger, _current.LocationCount);
        InForce(_current);
        foreach (var source in sources)
        {
            _registrations.Add(ChangeToken.OnChange(source.GetChangeToken, Rebuild));
        }

        if (tokens.Exists(static token => token.HasChanged))
        {
            Rebuild();
        }
    }

    /// <summary>The snapshot in force; read it once per request into a local.</summary>
    public ServingSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Stops following the configuration, stops watching the static folders, and stops the rate limiters' timers.</summary>
    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        lock (_rebuildLock)
        {
            _disposed = true;
            _environment.Files.Clear();
            _environment.RateLimits.Clear();
        }
    }

    /// <summary>A configuration came into force: its location table is logged, and the status page follows it.</summary>
    private void InForce(ServingSnapshot snapshot)
    {
        RoutingLog.LocationTable(_logger, snapshot.LocationCount, snapshot.Table);
        _status.Follow(snapshot);
    }

    private void Rebuild()
    {
        lock (_rebuildLock)
        {
            try
            {
                var options = _factory.Create(Options.DefaultName);
                if (_disposed || _current.IsBuiltFrom(options))
                {
                    return;
                }

                var next = ServingSnapshot.Compile(options, _environment);
                Volatile.Write(ref _current, next);
                ConfigLog.Reloaded(_logger, next.LocationCount);
                InForce(next);
            }
            catch (Exception ex)
            {
                // Must not escape into the configuration provider's reload callback.
                ConfigLog.ReloadRejected(_logger, ex);
            }
        }
    }
}
