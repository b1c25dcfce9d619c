using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Static;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>
/// Cached files are served without a stat while their folder's watch has seen no change. Each host
/// runs on a <see cref="FakeTimeProvider"/> that is never advanced unless a test says so, so a change
/// noticed here was noticed by the watch (inotify), not by the one-second period.
/// </summary>
public sealed class FolderWatchTests : IDisposable
{
    private const string Inotify = "the folder watch is inotify; elsewhere every request checks the disk";

    private readonly StaticSite _site = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _site.Dispose();

    [LinuxFact(Inotify)]
    public async Task RewrittenFile_IsNoticedByTheWatch()
    {
        const int size = 16;
        _site.RandomBytes("w.bin", size, seed: 1); // before the watch starts: no event of its own arrives late
        await using var host = await StartAsync(_site.Root);
        var before = await host.Client.GetAsync(StaticFileTests.Uri("/w.bin"));
        await host.Client.GetAsync(StaticFileTests.Uri("/w.bin")); // now trusted without a stat

        var after = _site.RandomBytes("w.bin", size + 1, seed: 2); // another length: a write within the same clock tick keeps the mtime

        await FileVersions.UntilServedAsync(host.Client, "/w.bin", after, before);
    }

    [LinuxFact(Inotify)]
    public async Task StreamedFile_IsCheckedOnEveryRequest()
    {
        // Above the in-memory limit a file is opened by path for each response, so it is never trusted
        // without a stat: the next request after a change gets the new version, never an aborted
        // transfer, even for a change the watch cannot see (written through a hard link from outside).
        var outside = Path.Combine(_site.Folder, "outside-big.bin");
        var before = new byte[200 * 1024];
        File.WriteAllBytes(outside, before);
        await StaticSite.RunAsync("ln", outside, _site.Path_("big.bin"));
        await using var host = await StartAsync(_site.Root);
        await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/big.bin"));
        await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/big.bin"));

        var after = StaticSite.RewriteInPlace(outside, seed: 5);

        Assert.Equal(after, await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/big.bin")));
    }

    [Fact]
    public async Task StreamedFileReplacedByALinkOutside_WithTheSameSizeAndTime_IsNotServed()
    {
        // The attack the open-by-path transfer must survive: a cached large file swapped for a link to a
        // file outside the root that has the same size and modification time.
        var secret = new byte[200 * 1024];
        Array.Fill(secret, (byte)'S');
        var outside = Path.Combine(_site.Folder, "outside-secret.bin");
        File.WriteAllBytes(outside, secret);
        _site.RandomBytes("swap.bin", secret.Length, seed: 6);
        File.SetLastWriteTimeUtc(_site.Path_("swap.bin"), File.GetLastWriteTimeUtc(outside));
        await using var host = await StartAsync(_site.Root);
        await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/swap.bin"));
        await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/swap.bin"));

        File.Delete(_site.Path_("swap.bin"));
        File.CreateSymbolicLink(_site.Path_("swap.bin"), outside);

        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync(StaticFileTests.Uri("/swap.bin"))).StatusCode);
    }

    [Fact]
    public async Task DeletedAndAddedFiles_AreNoticedByTheWatch()
    {
        await using var host = await StartAsync(_site.Root);
        Assert.Equal("hello world", await host.Client.GetStringAsync(StaticFileTests.Uri("/hello.txt")));
        await host.Client.GetAsync(StaticFileTests.Uri("/hello.txt")); // now trusted without a stat

        File.Delete(_site.Path_("hello.txt"));
        await Poll.UntilAsync(async () => (await host.Client.GetAsync(StaticFileTests.Uri("/hello.txt"))).StatusCode == HttpStatusCode.NotFound,
            "the deleted file is 404");

        _site.Write("hello.txt", "back again");
        Assert.Equal("back again", await host.Client.GetStringAsync(StaticFileTests.Uri("/hello.txt")));
    }

    [LinuxFact(Inotify)]
    public async Task ChangeTheWatchCannotSee_IsServedOnceTheTrustPeriodIsOver()
    {
        // A hard link from outside the root: writing through it touches no watched folder.
        var outside = Path.Combine(_site.Folder, "outside.bin");
        File.WriteAllBytes(outside, new byte[64]);
        await StaticSite.RunAsync("ln", outside, _site.Path_("linked.bin"));
        await using var host = await StartAsync(_site.Root);
        Assert.Equal(new byte[64], await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/linked.bin")));
        await host.Client.GetAsync(StaticFileTests.Uri("/linked.bin")); // now trusted without a stat

        var changed = StaticSite.RewriteInPlace(outside, seed: 3);

        // Trusted without a stat until the period is over (this is what makes a hit free), then checked.
        Assert.Equal(new byte[64], await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/linked.bin")));
        _time.Advance(FolderWatch.TrustPeriod);
        Assert.Equal(changed, await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/linked.bin")));
    }

    [LinuxFact(Inotify)]
    public async Task RootSymlinkSwappedByADeployment_ServesTheNewRelease_NeverA404()
    {
        // Capistrano's layout: the root is "current", a link to one release, replaced atomically.
        var releases = Path.Combine(_site.Folder, "releases");
        Directory.CreateDirectory(Path.Combine(releases, "1"));
        Directory.CreateDirectory(Path.Combine(releases, "2"));
        File.WriteAllText(Path.Combine(releases, "1", "app.txt"), "release 1");
        File.WriteAllText(Path.Combine(releases, "2", "app.txt"), "release two"); // another length: the ETag is nginx's, size and mtime
        var current = Path.Combine(_site.Folder, "current");
        Directory.CreateSymbolicLink(current, Path.Combine(releases, "1"));
        await using var host = await StartAsync(current);
        var before = await host.Client.GetAsync(StaticFileTests.Uri("/app.txt"));
        Assert.Equal("release 1", await before.Content.ReadAsStringAsync());
        await host.Client.GetAsync(StaticFileTests.Uri("/app.txt"));

        var next = Path.Combine(_site.Folder, "current.next");
        Directory.CreateSymbolicLink(next, Path.Combine(releases, "2"));
        await StaticSite.RunAsync("mv", "-T", next, current); // rename(2): the swap is atomic
        var swapped = await FileVersions.UntilServedAsync(host.Client, "/app.txt", "release two"u8.ToArray(), before);
        await host.Client.GetAsync(StaticFileTests.Uri("/app.txt")); // now trusted without a stat

        // The watch follows the link: a change in the new release is noticed as well.
        File.WriteAllText(Path.Combine(releases, "2", "app.txt"), "release 2, patched");
        await FileVersions.UntilServedAsync(host.Client, "/app.txt", "release 2, patched"u8.ToArray(), swapped);
    }

    [LinuxFact(Inotify)]
    public async Task FolderTheRootLinksTo_ReplacedByRename_IsWatchedAgain()
    {
        // The root is a link to releases/live; a deployment renames live away and another folder to live.
        // Nothing on the root's own path changes: only the parents of its real path see it.
        var releases = Path.Combine(_site.Folder, "releases");
        Directory.CreateDirectory(Path.Combine(releases, "live"));
        Directory.CreateDirectory(Path.Combine(releases, "next"));
        File.WriteAllText(Path.Combine(releases, "live", "app.txt"), "old");
        File.WriteAllText(Path.Combine(releases, "next", "app.txt"), "new one");
        var current = Path.Combine(_site.Folder, "current");
        Directory.CreateSymbolicLink(current, Path.Combine(releases, "live"));
        await using var host = await StartAsync(current);
        var before = await host.Client.GetAsync(StaticFileTests.Uri("/app.txt"));
        await host.Client.GetAsync(StaticFileTests.Uri("/app.txt")); // now trusted without a stat

        Directory.Move(Path.Combine(releases, "live"), Path.Combine(releases, "previous"));
        Directory.Move(Path.Combine(releases, "next"), Path.Combine(releases, "live"));

        await FileVersions.UntilServedAsync(host.Client, "/app.txt", "new one"u8.ToArray(), before);
    }

    [Fact]
    public async Task RootFolderReplaced_ServesTheNewFolder()
    {
        var root = Path.Combine(_site.Folder, "www");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "page.txt"), "one");
        await using var host = await StartAsync(root);
        var before = await host.Client.GetAsync(StaticFileTests.Uri("/page.txt"));
        await host.Client.GetAsync(StaticFileTests.Uri("/page.txt"));

        Directory.Delete(root, recursive: true);
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "page.txt"), "two, longer");

        await FileVersions.UntilServedAsync(host.Client, "/page.txt", "two, longer"u8.ToArray(), before);
    }

    [LinuxFact(Inotify)]
    public async Task Watch_WhileTheFolderIsMissing_TrustsNothing_AndWatchesItAgainOnceItIsBack()
    {
        var folder = Path.Combine(_site.Folder, "watched");
        Directory.CreateDirectory(folder);
        using var watch = FolderWatch.Start(folder, _time, NullLogger.Instance);
        var first = watch.Generation;
        Assert.True(first > 0);

        File.WriteAllText(Path.Combine(folder, "a.txt"), "a");
        await Poll.UntilAsync(() => watch.Generation > first, "the watch sees a new file");

        Directory.Delete(folder, recursive: true);
        await Poll.UntilAsync(() => watch.IsMissing, "the watch sees its folder go");
        Assert.Equal(0, watch.Generation);
        Directory.CreateDirectory(folder);
        Assert.Equal(0, watch.Generation); // nothing watches the parent while the folder is missing

        _time.Advance(FolderWatch.TrustPeriod);
        var again = watch.Generation;
        Assert.True(again > first);
        File.WriteAllText(Path.Combine(folder, "b.txt"), "b");
        await Poll.UntilAsync(() => watch.Generation > again, "the new folder is watched");
    }

    [LinuxFact(Inotify)]
    public void Watch_OfAFolderWithTooManySubfolders_TrustsNothing_AndSaysSo()
    {
        var folder = Path.Combine(_site.Folder, "huge");
        for (var i = 0; i <= FolderWatch.MaxFolders; i++)
        {
            Directory.CreateDirectory(Path.Combine(folder, i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var logs = new FakeLogger();
        using var watch = FolderWatch.Start(folder, _time, logs);

        Assert.Equal(0, watch.Generation);
        Assert.Equal(2006, logs.LatestRecord.Id.Id);
    }

    [Fact]
    public void OpenHandle_MustBeTheFileChecked_NotAnotherWithTheSameSizeAndTime()
    {
        // What a streamed response relies on between its check and its open.
        var checkedFile = _site.Path_("checked.bin");
        var other = _site.Path_("other.bin");
        File.WriteAllBytes(checkedFile, new byte[100]);
        File.WriteAllBytes(other, new byte[100]);
        File.SetLastWriteTimeUtc(other, File.GetLastWriteTimeUtc(checkedFile));
        FileEntry entry;
        using (var handle = File.OpenHandle(checkedFile))
        {
            entry = FileEntry.FromHandle(checkedFile, handle, "application/octet-stream", null, new FileCacheBudget(), 0, null, null);
        }

        using (var same = File.OpenHandle(checkedFile))
        {
            Assert.True(entry.IsCurrent(same));
        }

        using (var swapped = File.OpenHandle(other))
        {
            Assert.Equal(!OperatingSystem.IsLinux(), entry.IsCurrent(swapped)); // elsewhere only size and time are known
        }
    }

    [Fact]
    public void Watch_Disposed_TrustsNothing()
    {
        using var watch = FolderWatch.Start(_site.Root, _time, NullLogger.Instance);
        Assert.Equal(OperatingSystem.IsLinux(), watch.Generation > 0);

        watch.Dispose();

        Assert.Equal(0, watch.Generation);
    }

    [Fact]
    public async Task AliasToAFile_IsCheckedOnEveryRequest()
    {
        // A single file has no folder to watch: every request compares its stamp, so a change is
        // served by the very next request.
        _site.Write("one.txt", "first");
        await using var host = await StartAsync(_site.Root, $$"""{ "Match": "= /one", "Static": { "Alias": "{{ServingJson.Escape(_site.Path_("one.txt"))}}" } }""");
        Assert.Equal("first", await host.Client.GetStringAsync(StaticFileTests.Uri("/one")));
        Assert.Equal("first", await host.Client.GetStringAsync(StaticFileTests.Uri("/one"))); // checked, not trusted

        _site.Write("one.txt", "second, longer");

        Assert.Equal("second, longer", await host.Client.GetStringAsync(StaticFileTests.Uri("/one")));
    }

    private Task<ServingHost> StartAsync(string root, string? extraLocation = null) => ServingHost.StartAsync(
        ServingJson.Config((extraLocation is null ? "" : extraLocation + ", ") + ServingJson.StaticRoot(root)),
        services: services => services.AddSingleton<TimeProvider>(_time));
}
