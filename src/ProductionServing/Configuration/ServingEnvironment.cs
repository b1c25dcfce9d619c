using Microsoft.Extensions.Logging;
using ProductionServing.Static;

namespace ProductionServing.Configuration;

/// <summary>What compiling a configuration needs from the host: folders, the shared file cache budget, logging.</summary>
internal sealed class ServingEnvironment(string contentRoot, string webRoot, FileCacheBudget fileCacheBudget, ILoggerFactory loggerFactory)
{
    public string ContentRoot { get; } = contentRoot;

    /// <summary>The app's web root (<c>wwwroot</c>), the default folder of a static location and of the configuration-free default.</summary>
    public string WebRoot { get; } = webRoot;

    public FileCacheBudget FileCacheBudget { get; } = fileCacheBudget;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;
}
