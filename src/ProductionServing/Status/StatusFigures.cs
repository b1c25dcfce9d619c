using System.Collections.Concurrent;

namespace ProductionServing.Status;

/// <summary>
/// Everything the status page has counted since it started, keyed as the metrics' tags are: locations
/// by <c>Match</c> text, pools by name, upstream servers by group and address. The keys come from the
/// configuration, so they are few; <see cref="MaxKeys"/> still bounds each dictionary, against
/// reload after reload of new names.
/// </summary>
internal sealed class StatusFigures
{
    /// <summary>Seconds of pool history: five minutes of sparkline.</summary>
    public const int PoolHistory = 300;

    /// <summary>Seconds of request-rate history per location.</summary>
    public const int LocationHistory = 120;

    /// <summary>Seconds of response-time and in-flight history per upstream server.</summary>
    public const int ServerHistory = 120;

    /// <summary>The most keys (locations, pools, servers, groups) each dictionary takes.</summary>
    public const int MaxKeys = 1024;

    /// <summary>The most distinct <c>error.type</c> values counted per pool, group or server (the vocabulary has fewer).</summary>
    public const int MaxReasons = 64;

    /// <summary>The recent errors of every location together.</summary>
    public const int RecentErrorsKept = 20;

    /// <summary>The key of requests no location matched (their metrics have no location tag).</summary>
    public const string NoLocation = "";

    private readonly ConcurrentDictionary<string, LocationFigures> _locations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PoolFigures> _pools = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ReasonCounts> _groups = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(string Group, string Server), ServerFigures> _servers = new(ServerKeyComparer.Instance);
    private readonly ConcurrentDictionary<string, string> _serverNames = new(StringComparer.Ordinal);
    private readonly Lock _errorsLock = new();
    private readonly RecentRequest?[] _errors = new RecentRequest?[RecentErrorsKept];
    private int _nextError;
    private long _hits;
    private long _misses;

    public long CacheHits => Volatile.Read(ref _hits);

    public long CacheMisses => Volatile.Read(ref _misses);

    public IEnumerable<KeyValuePair<string, LocationFigures>> Locations => _locations;

    public IEnumerable<KeyValuePair<(string Group, string Server), ServerFigures>> Servers => _servers;

    /// <summary>How server keys compare (group and address, case-insensitively), for the set given to <see cref="Retain"/>.</summary>
    public static IEqualityComparer<(string Group, string Server)> ServerKeys => ServerKeyComparer.Instance;

    public void CacheLookup(bool hit, long count)
    {
        if (hit)
        {
            Interlocked.Add(ref _hits, count);
        }
        else
        {
            Interlocked.Add(ref _misses, count);
        }
    }

    /// <summary>The figures of the location whose <c>Match</c> is <paramref name="match"/> (null: no location), or null past <see cref="MaxKeys"/>.</summary>
    public LocationFigures? Location(string? match) => Get(_locations, match ?? NoLocation, static _ => new LocationFigures());

    /// <summary>The figures of a location if it has any, without making them.</summary>
    public LocationFigures? FindLocation(string? match) => _locations.GetValueOrDefault(match ?? NoLocation);

    public PoolFigures? Pool(string name) => Get(_pools, name, static _ => new PoolFigures());

    public PoolFigures? FindPool(string name) => _pools.GetValueOrDefault(name);

    /// <summary>An upstream group's rejections (no server could take the request), by reason.</summary>
    public ReasonCounts? Group(string name) => Get(_groups, name, static _ => new ReasonCounts());

    public ReasonCounts? FindGroup(string name) => _groups.GetValueOrDefault(name);

    /// <summary>
    /// The figures of server <paramref name="server"/> of <paramref name="group"/>. The server is named as
    /// the upstream instruments tag it (its configured address) or as the registry names it
    /// (<c>host:port</c>): both come down to <c>host:port</c>.
    /// </summary>
    public ServerFigures? Server(string group, string server) =>
        Get(_servers, (group, HostAndPort(server)), static _ => new ServerFigures());

    public ServerFigures? FindServer(string group, string server) => _servers.GetValueOrDefault((group, HostAndPort(server)));

    public void AddError(RecentRequest request)
    {
        lock (_errorsLock)
        {
            _errors[_nextError] = request;
            _nextError = (_nextError + 1) % RecentErrorsKept;
        }
    }

    /// <summary>The recent errors of every location, newest first.</summary>
    public RecentRequest[] Errors()
    {
        lock (_errorsLock)
        {
            var list = new List<RecentRequest>(RecentErrorsKept);
            for (var i = 1; i <= RecentErrorsKept; i++)
            {
                if (_errors[(_nextError - i + RecentErrorsKept) % RecentErrorsKept] is { } request)
                {
                    list.Add(request);
                }
            }

            return [.. list];
        }
    }

    /// <summary>
    /// Forgets the locations, pools, groups and servers a reload removed, so the dictionaries hold what
    /// the configuration names (figures of what stays are kept).
    /// </summary>
    public void Retain(ISet<string> locations, ISet<string> pools, ISet<(string Group, string Server)> servers)
    {
        foreach (var key in _locations.Keys)
        {
            if (key != NoLocation && !locations.Contains(key))
            {
                _locations.TryRemove(key, out _);
            }
        }

        foreach (var key in _pools.Keys)
        {
            if (!pools.Contains(key))
            {
                _pools.TryRemove(key, out _);
            }
        }

        var groups = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (group, _) in servers)
        {
            groups.Add(group);
        }

        foreach (var key in _groups.Keys)
        {
            if (!groups.Contains(key))
            {
                _groups.TryRemove(key, out _);
            }
        }

        foreach (var key in _servers.Keys)
        {
            if (!servers.Contains((key.Group, key.Server)))
            {
                _servers.TryRemove(key, out _);
            }
        }
    }

    /// <summary><c>host:port</c> of a server named by its address (<c>http://10.0.0.1:5001</c>) or already so.</summary>
    public string HostAndPort(string server)
    {
        if (_serverNames.TryGetValue(server, out var name))
        {
            return name;
        }

        name = Uri.TryCreate(server, UriKind.Absolute, out var uri) && uri.Authority.Length > 0 && server.Contains("://", StringComparison.Ordinal)
            ? uri.Authority
            : server;
        if (_serverNames.Count < MaxKeys)
        {
            _serverNames.TryAdd(server, name);
        }

        return name;
    }

    private static TValue? Get<TKey, TValue>(ConcurrentDictionary<TKey, TValue> dictionary, TKey key, Func<TKey, TValue> create)
        where TKey : notnull
        where TValue : class
    {
        if (dictionary.TryGetValue(key, out var value))
        {
            return value;
        }

        return dictionary.Count < MaxKeys ? dictionary.GetOrAdd(key, create) : null;
    }

    private sealed class ServerKeyComparer : IEqualityComparer<(string Group, string Server)>
    {
        public static readonly ServerKeyComparer Instance = new();

        public bool Equals((string Group, string Server) x, (string Group, string Server) y) =>
            StringComparer.OrdinalIgnoreCase.Equals(x.Group, y.Group) && StringComparer.OrdinalIgnoreCase.Equals(x.Server, y.Server);

        public int GetHashCode((string Group, string Server) key) =>
            HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(key.Group), StringComparer.OrdinalIgnoreCase.GetHashCode(key.Server));
    }
}
