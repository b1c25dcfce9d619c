namespace ProductionServing;

/// <summary>
/// The whole ProductionServing configuration: the <c>ProductionServing</c> section of
/// appsettings.json, or the object configured in code by
/// <c>AddProductionServing(Action&lt;ProductionServingOptions&gt;)</c>.
/// </summary>
/// <remarks>
/// With nothing configured, every request goes to the app through the <c>default</c> pool.
/// The configuration is validated as a whole at startup; every problem is reported at once in
/// one <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> whose messages name
/// the key path (for example <c>Locations[2].Match: unknown modifier '~~'</c>).
/// </remarks>
public sealed class ProductionServingOptions
{
    /// <summary>
    /// The locations, in configuration order. A request is handled by the one location that nginx's
    /// <c>location</c> rules select; a request no location matches goes to the app through the
    /// <c>default</c> pool. Default: empty. Order matters only among regex locations (the first
    /// matching regex wins).
    /// </summary>
    public IList<LocationOptions> Locations { get; } = new List<LocationOptions>();

    /// <summary>
    /// Named upstream server groups (nginx <c>upstream</c>), referred to by the host part of
    /// <see cref="ProxyOptions.Pass"/>. Names are case-insensitive. Default: empty.
    /// </summary>
    public IDictionary<string, UpstreamOptions> Upstreams { get; } =
        new Dictionary<string, UpstreamOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Named worker pools that run the app (gunicorn's workers), referred to by
    /// <see cref="AppOptions.Pool"/>. Names are case-insensitive. A pool named <c>default</c> always
    /// exists (it serves unmatched requests); configure it here to change its limits. Default: empty.
    /// </summary>
    public IDictionary<string, PoolOptions> Pools { get; } =
        new Dictionary<string, PoolOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The hot-file cache of the static locations.</summary>
    public FileCacheOptions FileCache { get; set; } = new();

    /// <summary>
    /// The live status page, its JSON and the location explainer. Default: <see langword="null"/> (off).
    /// </summary>
    public StatusOptions? Status { get; set; }

    /// <summary>The access log. Default: <see langword="null"/> (off).</summary>
    public AccessLogOptions? AccessLog { get; set; }

    /// <summary>
    /// Adds a <c>Server-Timing</c> header (W3C Server Timing) to each response with where its time went:
    /// the pool's queue wait, the upstream's connect and first-byte times and the attempts. Browsers' developer
    /// tools show it. Default: <see langword="false"/>: the figures describe the servers behind, which not
    /// every site wants to tell its clients.
    /// </summary>
    public bool ServerTiming { get; set; }

    /// <summary>
    /// The client networks (IPv4 and IPv6 addresses and CIDR ranges) whose <c>X-Forwarded-For</c>, <c>-Proto</c> and
    /// <c>-Host</c> are taken at face value when a request is forwarded: a load balancer or CDN in front of this app.
    /// From any other client they are replaced, not appended to, so a client cannot make up the address or scheme
    /// an upstream sees. Default: empty (no client is trusted).
    /// </summary>
    public IList<string> TrustedProxies { get; set; } = new List<string>();

    /// <summary>What happens when the host stops: the drain delay for rolling deploys.</summary>
    public ShutdownOptions Shutdown { get; set; } = new();

    /// <summary>Problems found while reading configuration keys, reported by the validator with all others.</summary>
    internal List<string> BindingErrors { get; } = [];
}
