namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A fact that drives Debian's Chromium (<see cref="ExecutablePath"/>, installed by <c>.ci/run</c>): reported as
/// skipped, with the reason, on a machine without it, never passed without a browser. Playwright's own browser
/// download is not used (this machine's network reaches only package registries).
/// </summary>
/// <remarks>xunit 2 has no dynamic skip, so the attribute sets <see cref="FactAttribute.Skip"/> when it is built.</remarks>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>Debian's <c>chromium</c> package's browser, or the one <c>PS_CHROMIUM</c> names.</summary>
    public static string ExecutablePath { get; } = Environment.GetEnvironmentVariable("PS_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Launches that browser headless, as the browser tests need it (no sandbox: CI runs as root).</summary>
    public static Task<Microsoft.Playwright.IBrowser> LaunchAsync(Microsoft.Playwright.IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new Microsoft.Playwright.BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            ChromiumSandbox = false,
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });

    public ChromiumFactAttribute()
    {
        if (!File.Exists(ExecutablePath))
        {
            Skip = $"No Chromium at {ExecutablePath}: install Debian's chromium package (apt-get install -y chromium), as .ci/run does.";
        }
    }
}
