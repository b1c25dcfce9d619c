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
/// <para>
/// An upstream's <c>Discover</c> servers change without a configuration change: when a token of
/// <see cref="Proxy.UpstreamRegistry.DiscoveryChanges"/> fires, the options of the snapshot in force are
/// compiled again, the way a reload compiles new ones, so the groups are rebuilt by the same code and keep
/// what a reload keeps (servers that stay, their health, connections and queue). Compiling the options in
/// force rather than reading the configuration again means a pending invalid edit cannot block discovery.
/// </para>
/// </remarks>
internal sealed class ServingConfigHolder : IDisposable
{
    private readonly IOptionsFactory<ProductionServingOptions> _factory;
    private readonly ServingEnvironment _environment;
    private readonly ILogger<ServingConfigHolder> _logger;
    private readonly StatusMonitor _status;
    private readonly List<IDisposable> _registrations = [];
    private List<IDisposable> _discoveryRegistrations = [];
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
        lock (_rebuildLock)
        {
            WatchDiscovery();
        }

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
            foreach (var registration in _discoveryRegistrations)
            {
                registration.Dispose();
            }

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

    /// <summary>Compiles the options in force again because a discovered upstream's servers changed.</summary>
    private void Rediscover()
    {
        lock (_rebuildLock)
        {
            try
            {
                if (_disposed)
                {
                    return;
                }

                var next = ServingSnapshot.Compile(_current.Options, _environment);
                Volatile.Write(ref _current, next);
                _status.Follow(next);
                WatchDiscovery();
            }
            catch (Exception ex)
            {
                // Must not escape into the discovery's callback; the groups in force stay.
                ConfigLog.ReloadRejected(_logger, ex);
            }
        }
    }

    /// <summary>Follows the discovered groups of the build just made in force (under the rebuild lock), dropping the last build's.</summary>
    private void WatchDiscovery()
    {
        foreach (var registration in _discoveryRegistrations)
        {
            registration.Dispose();
        }

        var registrations = new List<IDisposable>();
        foreach (var token in _environment.Upstreams.DiscoveryChanges)
        {
            // Off this thread: a token that already fired calls back at once, here, under the lock; and a
            // discovery firing its token must not run a compile inside its own notification.
            registrations.Add(token.RegisterChangeCallback(
                static state => ThreadPool.UnsafeQueueUserWorkItem(static holder => holder.Rediscover(), (ServingConfigHolder)state!, preferLocal: false),
                this));
        }

        _discoveryRegistrations = registrations;
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
                WatchDiscovery();
            }
            catch (Exception ex)
            {
                // Must not escape into the configuration provider's reload callback.
                ConfigLog.ReloadRejected(_logger, ex);
            }
        }
    }
}
