using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Static;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>
/// A reload keeps the cache of every static location whose lookup did not change. A cache hit is
/// observed as a file served in its cached version although it changed on disk in a way the folder's
/// watch cannot see (written through a hard link from outside), before the trust period is over: the
/// host's clock is a <see cref="FakeTimeProvider"/> that only the test advances.
/// </summary>
public sealed class StaticReloadTests : IDisposable
{
    private const string WatchedOnLinux = "a cache hit shows only under the folder watch (inotify); elsewhere every request checks the disk";

    private readonly StaticSite _site = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _site.Dispose();

    [LinuxFact(WatchedOnLinux)]
    public async Task ReloadThatTouchesAnotherLocation_KeepsTheCachedFiles()
    {
        await using var host = await StartAsync();
        var (before, after) = await CacheThenChangeUnseenAsync(host);

        host.Reload(("ProductionServing:Locations:1:App:Pool", null));
        Assert.Equal("1|/api/|App||/api/x", await host.Client.GetStringAsync(new Uri("/api/x", UriKind.Relative)));

        Assert.Equal(before, await host.Client.GetByteArrayAsync(new Uri("/linked.bin", UriKind.Relative)));
        _time.Advance(FolderWatch.TrustPeriod);
        Assert.Equal(after, await host.Client.GetByteArrayAsync(new Uri("/linked.bin", UriKind.Relative)));
    }

    [LinuxFact(WatchedOnLinux)]
    public async Task ReloadThatChangesOnlyHowTheLocationAnswers_KeepsTheCachedFiles()
    {
        await using var host = await StartAsync();
        var (before, _) = await CacheThenChangeUnseenAsync(host);

        host.Reload(("ProductionServing:Locations:0:Static:CacheControl", "no-cache"));
        using var response = await host.Client.GetAsync(new Uri("/linked.bin", UriKind.Relative));

        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal(before, await response.Content.ReadAsByteArrayAsync());
    }

    [LinuxFact(WatchedOnLinux)]
    public async Task ReloadThatChangesWhatTheLocationFinds_StartsAFreshCache()
    {
        await using var host = await StartAsync();
        var (_, after) = await CacheThenChangeUnseenAsync(host);

        host.Reload(("ProductionServing:Locations:0:Static:AllowHiddenFiles", "true"));

        Assert.Equal(after, await host.Client.GetByteArrayAsync(new Uri("/linked.bin", UriKind.Relative)));
    }

    /// <summary>Caches <c>/linked.bin</c> (trusted without a stat), then changes it where the watch cannot see.</summary>
    private async Task<(byte[] Before, byte[] After)> CacheThenChangeUnseenAsync(ServingHost host)
    {
        var outside = Path.Combine(_site.Folder, "outside.bin");
        var before = new byte[64];
        File.WriteAllBytes(outside, before);
        await StaticSite.RunAsync("ln", outside, _site.Path_("linked.bin"));

        Assert.Equal(before, await host.Client.GetByteArrayAsync(new Uri("/linked.bin", UriKind.Relative)));
        Assert.Equal(before, await host.Client.GetByteArrayAsync(new Uri("/linked.bin", UriKind.Relative)));

        var after = StaticSite.RewriteInPlace(outside, seed: 3);
        Assert.Equal(before, await host.Client.GetByteArrayAsync(new Uri("/linked.bin", UriKind.Relative)));
        return (before, after);
    }

    private Task<ServingHost> StartAsync() => ServingHost.StartAsync(
        ServingJson.Config(ServingJson.StaticRoot(_site.Root) + """, { "Match": "/api/", "App": { "Pool": "default" } }"""),
        services: services => services.AddSingleton<TimeProvider>(_time));
}
