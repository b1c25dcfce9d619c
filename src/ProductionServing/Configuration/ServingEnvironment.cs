using Microsoft.Extensions.Logging;
using ProductionServing.Diagnostics;
using ProductionServing.Directives;
using ProductionServing.Pools;
using ProductionServing.Proxy;
using ProductionServing.Static;

namespace ProductionServing.Configuration;

/// <summary>What compiling a configuration needs from the host: folders, the shared file cache, upstream and pool state, time, logging.</summary>
internal sealed class ServingEnvironment(string contentRoot, string webRoot, FileCacheBudget fileCacheBudget, UpstreamRegistry upstreams,
    PoolRegistry pools, TimeProvider time, ILoggerFactory loggerFactory, ServingMetrics metrics)
{
    /// <summary>The <c>ProductionServing</c> meter's instruments, for the handlers compiled here.</summary>
    public ServingMetrics Metrics { get; } = metrics;

    /// <summary>The locations' rate limiters, kept across reloads.</summary>
    public RateLimitRegistry RateLimits { get; } = new();

    /// <summary>Static locations' cached files and folder watches, kept across reloads.</summary>
    public FileLookupRegistry Files { get; } = new(fileCacheBudget, time, loggerFactory);

    public string ContentRoot { get; } = contentRoot;

    /// <summary>The app's web root (<c>wwwroot</c>), the default folder of a static location and of the configuration-free default.</summary>
    public string WebRoot { get; } = webRoot;

    public FileCacheBudget FileCacheBudget { get; } = fileCacheBudget;

    /// <summary>Upstream servers' health and connection pools, kept across reloads.</summary>
    public UpstreamRegistry Upstreams { get; } = upstreams;

    /// <summary>Worker pools with their queues and threads, kept across reloads.</summary>
    public PoolRegistry Pools { get; } = pools;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    /// <summary>The access log's file writer, kept across reloads; null outside a host (a snapshot compiled without the access log).</summary>
    public Diagnostics.AccessLogFiles? AccessLogs { get; init; }
}
