using Microsoft.Extensions.Logging;
using ProductionServing.Diagnostics;

namespace ProductionServing.Proxy;

/// <summary>
/// Builds the upstream groups of each configuration snapshot, keeping what a reload must not lose:
/// a server whose group and address stay keeps its health and in-flight count, and a group whose
/// connection settings stay keeps its connection pool. Old pools are never disposed, because a request
/// of the old snapshot may still be using them; idle connections close on their own. The servers of the
/// groups in force are what the upstream instruments report (<see cref="ServingMetrics.ObserveUpstreams"/>).
/// </summary>
internal sealed class UpstreamRegistry
{
    private readonly Lock _lock = new();
    private Dictionary<string, UpstreamServer> _servers = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, UpstreamTransport> _transports = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, UpstreamGroup> _groups = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Each group's wait queue, by group name: a reload builds new groups, and a slot freed by a request of
    /// the old configuration must still admit a waiter of the new one, and the other way round.
    /// </summary>
    private Dictionary<string, UpstreamGroup.WaitQueue> _queues = new(StringComparer.OrdinalIgnoreCase);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public UpstreamRegistry(TimeProvider time, ILoggerFactory loggerFactory, ServingMetrics metrics)
    {
        Time = time;
        Logger = loggerFactory.CreateLogger("ProductionServing.Proxy");
        Metrics = metrics;
        metrics.ObserveUpstreams(this);
    }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    /// <summary>The instruments the groups record to.</summary>
    public ServingMetrics Metrics { get; }

    /// <summary>The groups of the snapshot in force (health checks probe these).</summary>
    public IReadOnlyCollection<UpstreamGroup> Groups
    {
        get
        {
            lock (_lock)
            {
                return _groups.Values;
            }
        }
    }

    /// <summary>
    /// Completes when a later build is in force (a reload): what follows the groups in force (the health
    /// checks) acts on each reload when it happens, instead of polling for one.
    /// </summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>
    /// Compiles the groups of <paramref name="options"/>: every named upstream, and a group of one for
    /// each plain host a <c>Pass</c> names (keyed <c>scheme://host:port</c>).
    /// </summary>
    public Dictionary<string, UpstreamGroup> Build(ProductionServingOptions options)
    {
        lock (_lock)
        {
            var servers = new Dictionary<string, UpstreamServer>(StringComparer.OrdinalIgnoreCase);
            var transports = new Dictionary<string, UpstreamTransport>(StringComparer.OrdinalIgnoreCase);
            var groups = new Dictionary<string, UpstreamGroup>(StringComparer.OrdinalIgnoreCase);
            var queues = new Dictionary<string, UpstreamGroup.WaitQueue>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, upstream) in options.Upstreams)
            {
                groups[name] = BuildGroup(name, upstream, upstream.Servers, servers, transports, queues);
            }

            foreach (var location in options.Locations)
            {
                if (location.Proxy?.Pass is not { } pass || new Uri(pass) is var uri && options.Upstreams.ContainsKey(uri.IdnHost))
                {
                    continue;
                }

                var origin = uri.Scheme + "://" + uri.Authority;
                if (!groups.ContainsKey(origin))
                {
                    // A plain host: nginx's implicit upstream of one server, with the default settings.
                    var single = new UpstreamServerOptions { Address = origin };
                    groups[origin] = BuildGroup(origin, new UpstreamOptions(), [single], servers, transports, queues);
                }
            }

            _servers = servers;
            _transports = transports;
            _queues = queues;
            _groups = groups;
            var built = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            built.TrySetResult();
            return groups;
        }
    }

    private UpstreamGroup BuildGroup(string name, UpstreamOptions upstream, IList<UpstreamServerOptions> configured,
        Dictionary<string, UpstreamServer> servers, Dictionary<string, UpstreamTransport> transports, Dictionary<string, UpstreamGroup.WaitQueue> queues)
    {
        var built = new UpstreamServer[configured.Count];
        for (var i = 0; i < configured.Count; i++)
        {
            var address = new Uri(configured[i].Address!);
            var key = name + " " + address.Scheme + "://" + address.Authority;
            if (!_servers.TryGetValue(key, out var server))
            {
                server = new UpstreamServer(name, address);
            }

            server.Configure(configured[i], upstream, onlyServer: configured.Count == 1);
            servers[key] = server;
            built[i] = server;
        }

        if (!_transports.TryGetValue(name, out var transport) || transport.ConnectTimeout != upstream.ConnectTimeout)
        {
            transport = new UpstreamTransport(upstream.ConnectTimeout);
        }

        transports[name] = transport;
        var queue = queues[name] = _queues.TryGetValue(name, out var kept) ? kept : new UpstreamGroup.WaitQueue();
        return new UpstreamGroup(name, upstream, built, transport, queue, Time, Logger, Metrics);
    }
}
