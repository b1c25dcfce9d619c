using Microsoft.Extensions.Primitives;
using ProductionServing.Discovery;

namespace ProductionServing.ServiceDiscovery;

/// <summary>
/// What is known of one <c>Discover</c> URL: the servers last resolved and a token that fires when they change.
/// A resolution that gives the same servers fires nothing, so ProductionServing rebuilds only on a real change.
/// </summary>
internal sealed class DiscoveredService : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Func<DiscoveredService, Task> _run;
    private readonly TaskCompletionSource _firstResolution = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _changed = new();
    private DiscoveredEndpoints _current;
    private Task? _loop;

    /// <param name="name">The <c>Discover</c> URL, as the service name given to the resolver.</param>
    /// <param name="run">The resolution loop, started once by <see cref="Start"/>.</param>
    public DiscoveredService(string name, Func<DiscoveredService, Task> run)
    {
        Name = name;
        _run = run;
        _current = new DiscoveredEndpoints([], new CancellationChangeToken(_changed.Token));
    }

    public string Name { get; }

    /// <summary>The servers known now (none before the first resolution) and the token of their next change.</summary>
    public DiscoveredEndpoints Current => Volatile.Read(ref _current);

    /// <summary>Completes when the first resolution has ended, whether it found servers or failed.</summary>
    public Task FirstResolution => _firstResolution.Task;

    /// <summary>Completes when the loop has stopped (never started: at once).</summary>
    public Task Stopped => Volatile.Read(ref _loop) ?? Task.CompletedTask;

    /// <summary>Starts the resolution loop, once.</summary>
    public void Start()
    {
        lock (_lock)
        {
            _loop ??= _run(this);
        }
    }

    /// <summary>
    /// Makes <paramref name="addresses"/> the servers known now and fires the last token when they differ from
    /// the previous ones; null (a failed resolution) keeps the previous ones.
    /// </summary>
    public void Publish(IReadOnlyList<Uri>? addresses)
    {
        CancellationTokenSource? fired = null;
        lock (_lock)
        {
            if (addresses is not null && !SameServers(_current.Addresses, addresses))
            {
                fired = _changed;
                _changed = new CancellationTokenSource();

                // The new answer is in place before the old token fires: whoever the token calls reads it.
                Volatile.Write(ref _current, new DiscoveredEndpoints(addresses, new CancellationChangeToken(_changed.Token)));
            }
        }

        // A fired source is not disposed: a token of it registered later must still call back at once
        // (CancellationChangeToken turns a disposed source into a token that never calls back).
        fired?.Cancel();
        _firstResolution.TrySetResult();
    }

    /// <summary>Releases the token source of the next change (once the loop has stopped).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _changed.Dispose();
        }
    }

    private static bool SameServers(IReadOnlyList<Uri> before, IReadOnlyList<Uri> after)
    {
        if (before.Count != after.Count)
        {
            return false;
        }

        for (var i = 0; i < before.Count; i++)
        {
            if (before[i] != after[i])
            {
                return false;
            }
        }

        return true;
    }
}
