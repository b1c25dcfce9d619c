namespace ProductionServing.Proxy;

/// <summary>
/// One server of an upstream group and its live state: requests in flight, passive health (nginx's
/// <c>max_fails</c>/<c>fail_timeout</c>), the active health check's verdict. The state outlives a
/// configuration reload when the server's group and address stay the same.
/// </summary>
internal sealed class UpstreamServer
{
    private readonly Lock _healthLock = new();
    private int _active;
    private int _fails;
    private long _firstFailAt;
    private long _downUntil;
    private volatile bool _probeHealthy = true;
    private readonly string _httpOrigin;
    private readonly string _httpsOrigin;

    public UpstreamServer(string group, Uri address)
    {
        Group = group;
        Address = address;
        Name = address.Authority;
        _httpOrigin = "http://" + Name;
        _httpsOrigin = "https://" + Name;
    }

    /// <summary>The upstream group's name (for logs).</summary>
    public string Group { get; }

    /// <summary>The server's base URL (scheme, host, port; no path).</summary>
    public Uri Address { get; }

    /// <summary><c>host:port</c>, for logs and the status page.</summary>
    public string Name { get; }

    /// <summary><c>scheme://host:port</c> for the <c>Pass</c> URL's scheme (an https Pass speaks TLS to every server).</summary>
    public string Origin(string scheme) => scheme == Uri.UriSchemeHttps ? _httpsOrigin : _httpOrigin;

    /// <summary>Relative weight for RoundRobin and LeastRequests (1 or more).</summary>
    public int Weight { get; private set; } = 1;

    /// <summary>A backup server takes requests only when no primary can.</summary>
    public bool Backup { get; private set; }

    /// <summary>The most requests in flight to this server; 0 for unlimited.</summary>
    public int MaxConnections { get; private set; }

    /// <summary>Failures within <see cref="FailTimeout"/> that take the server out; 0 never does.</summary>
    public int MaxFails { get; private set; }

    /// <summary>Both the window in which failures count and how long the server then stays out.</summary>
    public TimeSpan FailTimeout { get; private set; }

    /// <summary>Requests in flight to this server now.</summary>
    public int ActiveRequests => Volatile.Read(ref _active);

    /// <summary>False while the last active health check failed.</summary>
    public bool ProbeHealthy
    {
        get => _probeHealthy;
        set => _probeHealthy = value;
    }

    /// <summary>Applies the (possibly reloaded) settings; the live state is kept.</summary>
    public void Configure(UpstreamServerOptions server, UpstreamOptions group, bool onlyServer)
    {
        Weight = server.Weight;
        Backup = server.Backup;
        MaxConnections = server.MaxConnections ?? 0;

        // nginx: "If there is only a single server in a group, max_fails, fail_timeout and slow_start
        // parameters are ignored, and such a server will never be considered unavailable."
        MaxFails = onlyServer ? 0 : group.MaxFails;
        FailTimeout = group.FailTimeout;
    }

    /// <summary>Whether passive and active health let this server take a request at <paramref name="now"/> (a <see cref="TimeProvider"/> timestamp).</summary>
    public bool IsUp(long now) => _probeHealthy && (MaxFails == 0 || now >= Volatile.Read(ref _downUntil));

    /// <summary>Whether another request may start now under <see cref="MaxConnections"/>.</summary>
    public bool HasCapacity => MaxConnections == 0 || Volatile.Read(ref _active) < MaxConnections;

    /// <summary>Takes a request slot; false when <see cref="MaxConnections"/> is reached.</summary>
    public bool TryAcquire()
    {
        if (MaxConnections == 0)
        {
            Interlocked.Increment(ref _active);
            return true;
        }

        var active = Volatile.Read(ref _active);
        while (active < MaxConnections)
        {
            var seen = Interlocked.CompareExchange(ref _active, active + 1, active);
            if (seen == active)
            {
                return true;
            }

            active = seen;
        }

        return false;
    }

    /// <summary>Gives back the slot of <see cref="TryAcquire"/>.</summary>
    public void Release() => Interlocked.Decrement(ref _active);

    /// <summary>
    /// Counts a failed attempt (connect error, reset or timeout before a response). Returns true when
    /// this failure took the server out: <see cref="MaxFails"/> within <see cref="FailTimeout"/>.
    /// </summary>
    public bool ReportFailure(long now, TimeProvider time)
    {
        if (MaxFails == 0)
        {
            return false;
        }

        lock (_healthLock)
        {
            if (_fails == 0 || time.GetElapsedTime(_firstFailAt, now) >= FailTimeout)
            {
                _fails = 0;
                _firstFailAt = now;
            }

            _fails++;
            if (_fails < MaxFails)
            {
                return false;
            }

            _fails = 0;
            Volatile.Write(ref _downUntil, now + (long)(FailTimeout.TotalSeconds * time.TimestampFrequency));
            return true;
        }
    }
}
