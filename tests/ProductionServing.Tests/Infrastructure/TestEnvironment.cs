using System.Runtime.CompilerServices;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>Settings for every host the tests start in this process.</summary>
internal static class TestEnvironment
{
    /// <summary>
    /// WebApplication.CreateBuilder watches the content root's appsettings files for changes with one inotify instance
    /// per host, and Linux allows 128 per user by default: the suite starts more hosts than that at once. No test
    /// reloads through those default files (reload tests change their own configuration sources), so the host
    /// builder's own setting turns the watching off for all of them (read from DOTNET_-prefixed variables).
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}
