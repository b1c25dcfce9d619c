namespace ProductionServing;

/// <summary>A named group of upstream servers (nginx <c>upstream</c>).</summary>
public sealed class UpstreamOptions
{
    /// <summary>The servers of the group. Required (at least one) unless <see cref="Discover"/> is set; not together with it.</summary>
    public IList<UpstreamServerOptions> Servers { get; } = new List<UpstreamServerOptions>();

    /// <summary>
    /// Discovers the servers instead of listing them: an http or https URL whose host is the service name
    /// (<c>http://catalog</c>; no port or path), resolved through Microsoft.Extensions.ServiceDiscovery by the
    /// <c>ProductionServing.ServiceDiscovery</c> package (<c>services.AddProductionServingServiceDiscovery()</c>).
    /// Default: <see langword="null"/> (the servers are <see cref="Servers"/>).
    /// </summary>
    /// <remarks>
    /// Each discovered server has weight 1, is a primary and has no <c>MaxConnections</c>; the group's own
    /// settings (balancing, <see cref="MaxFails"/>, <see cref="FailTimeout"/>, health check, timeouts) apply
    /// to all. The servers follow the discovery while serving: one that appears starts taking requests, one
    /// that disappears gets no new ones (its requests in flight finish), and one that stays keeps its health
    /// and connections. While none is known, the group's requests get 502.
    /// </remarks>
    public string? Discover { get; set; }

    /// <summary>How a server is chosen per request. Default: <see cref="BalancingPolicy.RoundRobin"/>.</summary>
    public BalancingPolicy Balancing { get; set; } = BalancingPolicy.RoundRobin;

    /// <summary>
    /// The key hashed by <see cref="BalancingPolicy.Hash"/>, a variable template (nginx's <c>hash</c>):
    /// usually <c>$remote_addr</c>, <c>$uri</c>, <c>$http_&lt;name&gt;</c> (a request header) or
    /// <c>$cookie_&lt;name&gt;</c>, or several together (<c>$host$uri</c>). Default: <see langword="null"/>;
    /// required with <see cref="BalancingPolicy.Hash"/>. A request whose key is empty is balanced round robin.
    /// </summary>
    public string? HashKey { get; set; }

    /// <summary>
    /// Failures within <see cref="FailTimeout"/> that take a server out of rotation for
    /// <see cref="FailTimeout"/> (nginx <c>max_fails</c>); 0 turns passive health off. Default: 1.
    /// </summary>
    public int MaxFails { get; set; } = 1;

    /// <summary>
    /// The window in which <see cref="MaxFails"/> failures are counted, and how long a failed
    /// server then stays out (nginx <c>fail_timeout</c>). Default: 10 seconds.
    /// </summary>
    public TimeSpan FailTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Active health probes. Default: <see langword="null"/> (passive health only).</summary>
    public UpstreamHealthCheckOptions? HealthCheck { get; set; }

    /// <summary>
    /// Extra attempts on another server after a connect failure, a reset before the response, or
    /// a timeout; idempotent requests only (GET, HEAD, OPTIONS, PUT, DELETE whose body was not yet
    /// sent). Default: 1.
    /// </summary>
    public int Retries { get; set; } = 1;

    /// <summary>How long to wait for a connection to a server. Default: 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for the response headers (then 504). Default: 60 seconds.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How many requests may wait when every server is at its
    /// <see cref="UpstreamServerOptions.MaxConnections"/>; more get 503. Default: 100.
    /// </summary>
    public int QueueLimit { get; set; } = 100;

    /// <summary>How long a request may wait for a free connection before 503. Default: 5 seconds.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
