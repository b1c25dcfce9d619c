using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;
using ProductionServing.Discovery;

namespace ProductionServing.ServiceDiscovery;

/// <summary>
/// ProductionServing's <see cref="IUpstreamDiscovery"/> on Microsoft.Extensions.ServiceDiscovery: one
/// <see cref="DiscoveredService"/> per <c>Discover</c> URL, started the first time the URL is asked for and
/// following <see cref="ServiceEndpointResolver"/> until the host's services are disposed.
/// </summary>
internal sealed class ServiceEndpointDiscovery(ServiceEndpointResolver resolver, IOptions<ServiceDiscoveryOptions> options,
    TimeProvider time, ILogger<ServiceEndpointDiscovery> logger) : IUpstreamDiscovery, IAsyncDisposable, IDisposable
{
    /// <summary>
    /// How long the first ask for a name waits for its first resolution, so that a host starts with the
    /// servers of a quick provider (configuration, a DNS answer) instead of a first moment of 502s. A slower
    /// one goes on in the background; the group starts empty and follows it.
    /// </summary>
    internal static readonly TimeSpan FirstResolutionWait = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, DiscoveredService> _services = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stopping = new();

    public DiscoveredEndpoints GetEndpoints(string discover)
    {
        ArgumentNullException.ThrowIfNull(discover);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (_services.TryGetValue(discover, out var known))
        {
            return known.Current;
        }

        var service = _services.GetOrAdd(discover, static (name, self) => new DiscoveredService(name, self.Start), this);
        service.Start();

        // Compiling a configuration is synchronous; the wait is bounded and happens once per name.
        service.FirstResolution.Wait(FirstResolutionWait, CancellationToken.None);
        return service.Current;
    }

    /// <summary>Stops every loop without waiting for it (a service provider disposed synchronously).</summary>
    public void Dispose()
    {
        if (!_stopping.IsCancellationRequested)
        {
            _stopping.Cancel();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        foreach (var service in _services.Values)
        {
            await service.Stopped.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            service.Dispose();
        }
    }

    /// <summary>Runs <paramref name="service"/>'s loop: resolve, publish, wait for a change (or the refresh period), again.</summary>
    private async Task Start(DiscoveredService service)
    {
        // Off the caller's thread: it may be waiting synchronously for the first resolution.
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        var stopping = _stopping.Token;
        var refresh = options.Value.RefreshPeriod;
        while (!stopping.IsCancellationRequested)
        {
            Microsoft.Extensions.Primitives.IChangeToken? changed = null;
            try
            {
                var source = await resolver.GetEndpointsAsync(service.Name, stopping).ConfigureAwait(false);
                service.Publish(EndpointAddresses.From(service.Name, source.Endpoints, logger));
                changed = source.ChangeToken;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                DiscoveryLog.DiscoveryFailed(logger, service.Name, refresh, ex);
                service.Publish(null);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }

            await WaitForChangeAsync(changed, refresh, stopping).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until <paramref name="changed"/> fires or <paramref name="refresh"/>
    /// (<see cref="ServiceDiscoveryOptions.RefreshPeriod"/>) has passed, whichever comes first. The period also
    /// covers a token that cannot call back, a failed resolution, and a provider whose token stops with it: the
    /// resolver disposes a name's watcher (and its providers) when nobody asked for a while, which between two
    /// changes is the normal case here.
    /// </summary>
    private async Task WaitForChangeAsync(Microsoft.Extensions.Primitives.IChangeToken? changed, TimeSpan refresh, CancellationToken stopping)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = changed is { ActiveChangeCallbacks: true }
            ? changed.RegisterChangeCallback(static state => ((TaskCompletionSource)state!).TrySetResult(), fired)
            : null;
        using var period = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        try
        {
            await Task.WhenAny(fired.Task, Task.Delay(refresh, time, period.Token)).ConfigureAwait(false);
        }
        finally
        {
            // Stops the delay's timer when the token fired first.
            await period.CancelAsync().ConfigureAwait(false);
        }
    }
}
