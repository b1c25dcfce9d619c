using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using ProductionServing.Diagnostics;
using ProductionServing.Discovery;

namespace ProductionServing.Proxy;

/// <summary>
/// Builds the upstream groups of each configuration snapshot, keeping what a reload must not lose:
/// a server whose group and address stay keeps its health and in-flight count, and a group whose
/// connection settings stay keeps its connection pool. Old pools are never disposed, because a request
/// of the old snapshot may still be using them; idle connections close on their own. The servers of the
/// groups in force are what the upstream instruments report (<see cref="ServingMetrics.ObserveUpstreams"/>).
/// </summary>
/// <remarks>
/// An upstream with <c>Discover</c> gets its servers from <see cref="IUpstreamDiscovery"/> at each build. When
/// they change, <see cref="Configuration.ServingConfigHolder"/> builds again from the same options: a discovery
/// change is a reload in which only that list moved, so it keeps what a reload keeps.
/// </remarks>
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
    private readonly IUpstreamDiscovery? _discovery;
    private List<IChangeToken> _discoveryChanges = [];

    public UpstreamRegistry(TimeProvider time, ILoggerFactory loggerFactory, ServingMetrics metrics, IUpstreamDiscovery? discovery = null)
    {
        _discovery = discovery;
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
    /// Tokens that fire when the servers of a discovered group of the last build may have changed (empty
    /// without <c>Discover</c>): each was taken with the servers that build used, so no change is missed.
    /// </summary>
    public IReadOnlyList<IChangeToken> DiscoveryChanges
    {
        get
        {
            lock (_lock)
            {
                return _discoveryChanges;
            }
        }
    }

    /// <summary>
    /// Compiles the groups of <paramref name="options"/>: every named upstream, and a group of one for
    /// each plain host a <c>Pass</c> names (keyed <c>scheme://host:port</c>).
    /// </summary>
    public Dictionary<string, UpstreamGroup> Build(ProductionServingOptions options)
    {
        // Discovered servers are asked for first, outside the lock: a discovery may wait for a name's first
        // answer, and the readiness check, the metrics and the status page read the groups under that lock.
        // Asking first also means a discovery that throws fails the build before any server is reconfigured.
        // Builds are serialized by the configuration holder, so nothing else writes the groups meanwhile.
        var discoveryChanges = new List<IChangeToken>();
        Dictionary<string, List<UpstreamServerOptions>>? discovered = null;
        foreach (var (name, upstream) in options.Upstreams)
        {
            if (upstream.Discover is { } discover)
            {
                (discovered ??= new Dictionary<string, List<UpstreamServerOptions>>(StringComparer.OrdinalIgnoreCase))[name] =
                    Discovered(name, discover, discoveryChanges);
            }
        }

        lock (_lock)
        {
            var servers = new Dictionary<string, UpstreamServer>(StringComparer.OrdinalIgnoreCase);
            var transports = new Dictionary<string, UpstreamTransport>(StringComparer.OrdinalIgnoreCase);
            var groups = new Dictionary<string, UpstreamGroup>(StringComparer.OrdinalIgnoreCase);
            var queues = new Dictionary<string, UpstreamGroup.WaitQueue>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, upstream) in options.Upstreams)
            {
                IList<UpstreamServerOptions> configured = discovered is not null && discovered.TryGetValue(name, out var found) ? found : upstream.Servers;
                groups[name] = BuildGroup(name, upstream, configured, servers, transports, queues);
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
            _discoveryChanges = discoveryChanges;
            var built = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            built.TrySetResult();
            return groups;
        }
    }

    /// <summary>
    /// The servers <see cref="IUpstreamDiscovery"/> knows now for <paramref name="discover"/>, each with the
    /// defaults of a listed server (weight 1, primary, no MaxConnections), logged when the set changed.
    /// </summary>
    private List<UpstreamServerOptions> Discovered(string name, string discover, List<IChangeToken> changes)
    {
        // The validator refuses Discover when no discovery is registered.
        var found = _discovery!.GetEndpoints(discover);
        changes.Add(found.ChangeToken);
        var listed = new List<UpstreamServerOptions>(found.Addresses.Count);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var address in found.Addresses)
        {
            var origin = address.Scheme + "://" + address.Authority;
            if (seen.Add(origin))
            {
                listed.Add(new UpstreamServerOptions { Address = origin });
            }
        }

        var before = _groups.TryGetValue(name, out var previous) ? previous.Servers : null;
        if (before is null || before.Count != listed.Count || !before.All(server => seen.Contains(server.Address.Scheme + "://" + server.Address.Authority)))
        {
            var names = string.Join(", ", listed.ConvertAll(static server => server.Address));
            ProxyLog.UpstreamServersDiscovered(Logger, name, discover, listed.Count, names);
        }

        return listed;
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
