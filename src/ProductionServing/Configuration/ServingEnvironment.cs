using Microsoft.Extensions.Logging;
using ProductionServing.Proxy;
using ProductionServing.Static;

namespace ProductionServing.Configuration;

/// <summary>What compiling a configuration needs from the host: folders, the shared file cache budget, upstream state, logging.</summary>
internal sealed class ServingEnvironment(string contentRoot, string webRoot, FileCacheBudget fileCacheBudget, UpstreamRegistry upstreams, ILoggerFactory loggerFactory)
{
    public string ContentRoot { get; } = contentRoot;

    /// <summary>The app's web root (<c>wwwroot</c>), the default folder of a static location and of the configuration-free default.</summary>
    public string WebRoot { get; } = webRoot;

    public FileCacheBudget FileCacheBudget { get; } = fileCacheBudget;

    /// <summary>Upstream servers' health and connection pools, kept across reloads.</summary>
    public UpstreamRegistry Upstreams { get; } = upstreams;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;
}
