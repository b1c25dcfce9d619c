using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Configuration;
using ProductionServing.Static;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>
/// A folder's decision (a folder inside the root, and which index file it has) is cached like a file
/// and noticed changing like one. Each host runs on a <see cref="FakeTimeProvider"/> that is never
/// advanced unless a test says so, so a change noticed here was noticed by the watch (inotify), not
/// by the one-second period. Every folder is asked for twice before it changes: the second request is
/// answered from the cache when the folder is watched.
/// </summary>
public sealed class FolderCacheTests : IDisposable
{
    private const string TwoIndexNames = """ "Index": ["index.htm", "index.html"] """;

    private readonly StaticSite _site = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _site.Dispose();

    [Fact]
    public async Task IndexAdded_IsServed()
    {
        _site.Write("sub/page.txt", "page");
        await using var host = await StartAsync(_site.Root);
        await AssertAnswersAsync(host, "/sub/", HttpStatusCode.Forbidden);
        await AssertAnswersAsync(host, "/sub/", HttpStatusCode.Forbidden);

        _site.Write("sub/index.html", "added");

        await Poll.UntilAsync(async () => await AnswerAsync(host, "/sub/") == "200 added", "the new index is served");
    }

    [Fact]
    public async Task IndexEarlierInTheList_Added_IsServedInsteadOfTheOneBefore()
    {
        _site.Write("sub/index.html", "second name");
        await using var host = await StartAsync(_site.Root, TwoIndexNames);
        await AssertAnswersAsync(host, "/sub/", HttpStatusCode.OK, "second name");
        await AssertAnswersAsync(host, "/sub/", HttpStatusCode.OK, "second name");

        _site.Write("sub/index.htm", "first name");

        await UntilAnsweredAsync(host, "/sub/", "200 first name", "200 second name");
    }

    [Fact]
    public async Task IndexRemoved_TheNextNameIsServed_ThenNone()
    {
        _site.Write("sub/index.htm", "first name");
        _site.Write("sub/index.html", "second name");
        await using var host = await StartAsync(_site.Root, TwoIndexNames);
        await AssertAnswersAsync(host, "/sub/", HttpStatusCode.OK, "first name");
        await AssertAnswersAsync(host, "/sub/", HttpStatusCode.OK, "first name");

        File.Delete(_site.Path_("sub/index.htm"));
        await UntilAnsweredAsync(host, "/sub/", "200 second name", "200 first name");

        File.Delete(_site.Path_("sub/index.html"));
        await UntilAnsweredAsync(host, "/sub/", "403 ", "200 second name");
    }

    [Fact]
    public async Task IndexRewritten_IsServedInItsNewVersion()
    {
        await using var host = await StartAsync(_site.Root);
        var before = await host.Client.GetAsync(StaticFileTests.Uri("/docs/"));
        Assert.Equal("<h1>docs</h1>", await before.Content.ReadAsStringAsync());
        await host.Client.GetAsync(StaticFileTests.Uri("/docs/"));

        _site.Write("docs/index.html", "<h1>docs, rewritten</h1>");

        await FileVersions.UntilServedAsync(host.Client, "/docs/", "<h1>docs, rewritten</h1>"u8.ToArray(), before);
    }

    [LinuxFact("a change the watch cannot see needs the watch (inotify) and a hard link (ln)")]
    public async Task LargeIndex_ChangedUnseen_IsServedByTheNextRequest()
    {
        // A trusted folder decision names its index file, never vouches for it: the file keeps its own
        // rule, and one above the in-memory limit is checked on every request. Written through a hard
        // link from outside the root, the change is one the watch cannot see.
        var outside = Path.Combine(_site.Folder, "outside-index.html");
        var before = new byte[200 * 1024];
        File.WriteAllBytes(outside, before);
        Directory.CreateDirectory(_site.Path_("big"));
        await StaticSite.RunAsync("ln", outside, _site.Path_("big/index.html"));
        await using var host = await StartAsync(_site.Root);
        Assert.Equal(before, await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/big/")));
        Assert.Equal(before, await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/big/")));

        var after = StaticSite.RewriteInPlace(outside, seed: 5);

        Assert.Equal(after, await host.Client.GetByteArrayAsync(StaticFileTests.Uri("/big/")));
    }

    [Fact]
    public async Task FolderReplaced_ServesTheNewFolder()
    {
        _site.Write("app/index.html", "old folder");
        await using var host = await StartAsync(_site.Root, TwoIndexNames);
        await AssertAnswersAsync(host, "/app/", HttpStatusCode.OK, "old folder");
        await AssertAnswersAsync(host, "/app/", HttpStatusCode.OK, "old folder");

        // Built beside it, then renamed over it (rename(2) replaces an empty folder only, so the old
        // one is moved away first): the new folder's first index name wins.
        _site.Write("app.next/index.htm", "new folder");
        _site.Write("app.next/index.html", "new folder, second name");
        Directory.Move(_site.Path_("app"), _site.Path_("app.old"));
        Directory.Move(_site.Path_("app.next"), _site.Path_("app"));

        await Poll.UntilAsync(async () => await AnswerAsync(host, "/app/") == "200 new folder", "the new folder's index is served");
    }

    [Fact]
    public async Task FolderReplacedByAFile_ServesTheFile()
    {
        _site.Write("app/index.html", "folder");
        await using var host = await StartAsync(_site.Root);
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.Client.BaseAddress };
        Assert.Equal(HttpStatusCode.MovedPermanently, (await noRedirects.GetAsync(StaticFileTests.Uri("/app"))).StatusCode);
        Assert.Equal(HttpStatusCode.MovedPermanently, (await noRedirects.GetAsync(StaticFileTests.Uri("/app"))).StatusCode);
        await AssertAnswersAsync(host, "/app/", HttpStatusCode.OK, "folder");
        await AssertAnswersAsync(host, "/app/", HttpStatusCode.OK, "folder");

        Directory.Delete(_site.Path_("app"), recursive: true);
        _site.Write("app", "a file now");

        await Poll.UntilAsync(async () => await AnswerAsync(noRedirects, "/app") == "200 a file now", "the file is served");
        await AssertAnswersAsync(host, "/app/", HttpStatusCode.NotFound);
    }

    [LinuxFact("swaps the link atomically with mv -T")]
    public async Task FolderLinkSwapped_ServesTheNewTarget()
    {
        // A link inside the root to one release of a folder, swapped atomically for the next.
        _site.Write("releases/1/index.html", "release 1");
        _site.Write("releases/2/index.htm", "release 2");
        _site.Write("releases/2/index.html", "release 2, second name");
        Directory.CreateSymbolicLink(_site.Path_("app"), "releases/1");
        await using var host = await StartAsync(_site.Root, TwoIndexNames);
        await AssertAnswersAsync(host, "/app/", HttpStatusCode.OK, "release 1");
        await AssertAnswersAsync(host, "/app/", HttpStatusCode.OK, "release 1");

        Directory.CreateSymbolicLink(_site.Path_("app.next"), "releases/2");
        await StaticSite.RunAsync("mv", "-T", _site.Path_("app.next"), _site.Path_("app"));

        await UntilAnsweredAsync(host, "/app/", "200 release 2", "200 release 1");
    }

    [LinuxFact("swaps the root link atomically with mv -T, and reads the watch (inotify)")]
    public async Task RootLinkSwappedByADeployment_ServesTheNewReleasesIndex()
    {
        // Capistrano's layout: the root is "current", a link to one release, replaced atomically.
        var releases = Path.Combine(_site.Folder, "releases");
        Directory.CreateDirectory(Path.Combine(releases, "1"));
        Directory.CreateDirectory(Path.Combine(releases, "2"));
        File.WriteAllText(Path.Combine(releases, "1", "index.html"), "release 1");
        File.WriteAllText(Path.Combine(releases, "2", "index.htm"), "release 2");
        File.WriteAllText(Path.Combine(releases, "2", "index.html"), "release 2, second name");
        var current = Path.Combine(_site.Folder, "current");
        Directory.CreateSymbolicLink(current, Path.Combine(releases, "1"));
        await using var host = await StartAsync(current, TwoIndexNames);
        await AssertAnswersAsync(host, "/", HttpStatusCode.OK, "release 1");
        await AssertAnswersAsync(host, "/", HttpStatusCode.OK, "release 1");

        var watch = ((StaticHandler)host.App.Services.GetRequiredService<ServingConfigHolder>().Current.Matcher.Select("/")!.Handler).Files.Watch;
        var before = watch.Generation;

        var next = Path.Combine(_site.Folder, "current.next");
        Directory.CreateSymbolicLink(next, Path.Combine(releases, "2"));
        await StaticSite.RunAsync("mv", "-T", next, current);

        // Asked once the new release is watched: while the watch is set up again nothing is trusted at
        // all, and a request then would find the new index even if the old decision outlived the swap.
        await Poll.UntilAsync(() => watch.Generation > before, "the new release is watched");
        await AssertAnswersAsync(host, "/", HttpStatusCode.OK, "release 2");
    }

    [Fact]
    public async Task FolderReplacedByALinkOutOfTheRoot_Gets404_NeverTheOutsideIndex()
    {
        _site.Write("pub/index.html", "inside");
        var outside = Path.Combine(_site.Folder, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "index.html"), StaticSite.Secret);
        await using var host = await StartAsync(_site.Root);
        await AssertAnswersAsync(host, "/pub/", HttpStatusCode.OK, "inside");
        await AssertAnswersAsync(host, "/pub/", HttpStatusCode.OK, "inside");

        Directory.Delete(_site.Path_("pub"), recursive: true);
        Directory.CreateSymbolicLink(_site.Path_("pub"), outside);

        await Poll.UntilAsync(async () =>
        {
            var answer = await AnswerAsync(host, "/pub/");
            Assert.DoesNotContain(StaticSite.Secret, answer, StringComparison.Ordinal);
            return answer == "404 ";
        }, "the folder that is now outside the root is 404");
    }

    [Fact]
    public async Task FolderRenamedToAHiddenName_Gets404()
    {
        _site.Write("pub/index.html", "public");
        _site.Write(".hidden/index.html", "hidden");
        await using var host = await StartAsync(_site.Root);
        await AssertAnswersAsync(host, "/.hidden/", HttpStatusCode.NotFound);
        await AssertAnswersAsync(host, "/.hidden/", HttpStatusCode.NotFound);
        await AssertAnswersAsync(host, "/pub/", HttpStatusCode.OK, "public");
        await AssertAnswersAsync(host, "/pub/", HttpStatusCode.OK, "public");

        Directory.Move(_site.Path_("pub"), _site.Path_(".pub"));

        await Poll.UntilAsync(async () => await AnswerAsync(host, "/pub/") == "404 ", "the renamed folder is gone");
        await AssertAnswersAsync(host, "/.pub/", HttpStatusCode.NotFound);
        await AssertAnswersAsync(host, "/.hidden/", HttpStatusCode.NotFound);
    }

    [LinuxFact("swaps a link atomically with mv -T; only a watched folder (inotify) is trusted for a period")]
    public async Task ChangeTheWatchCannotSee_IsServedOnceTheTrustPeriodIsOver()
    {
        // /docs is a link to a link outside the root that points back in: the folder stays inside the
        // root, but the outer link is in no watched folder, so swapping it moves no generation.
        _site.Write("r1/page.txt", "no index here");
        _site.Write("r2/index.html", "index of r2");
        var hop = Path.Combine(_site.Folder, "hop");
        Directory.CreateSymbolicLink(hop, _site.Path_("r1"));
        Directory.CreateSymbolicLink(_site.Path_("docs2"), hop);
        await using var host = await StartAsync(_site.Root);
        await AssertAnswersAsync(host, "/docs2/", HttpStatusCode.Forbidden);
        await AssertAnswersAsync(host, "/docs2/", HttpStatusCode.Forbidden);

        Directory.CreateSymbolicLink(hop + ".next", _site.Path_("r2"));
        await StaticSite.RunAsync("mv", "-T", hop + ".next", hop);

        // Trusted without looking at the disk until the period is over (what makes a hit free), then decided again.
        await AssertAnswersAsync(host, "/docs2/", HttpStatusCode.Forbidden);
        _time.Advance(FolderWatch.TrustPeriod);
        await AssertAnswersAsync(host, "/docs2/", HttpStatusCode.OK, "index of r2");
    }

    [LinuxFact("the folder limit is the watch's (inotify); elsewhere nothing is watched")]
    public async Task UnwatchedFolder_IsCheckedOnEveryRequest()
    {
        // More subfolders than a watch takes: every request decides again, so the next one sees a change.
        for (var i = 0; i <= FolderWatch.MaxFolders; i++)
        {
            Directory.CreateDirectory(_site.Path_($"many/{i}"));
        }

        _site.Write("sub/page.txt", "page");
        await using var host = await StartAsync(_site.Root);
        await AssertAnswersAsync(host, "/sub/", HttpStatusCode.Forbidden);
        await AssertAnswersAsync(host, "/sub/", HttpStatusCode.Forbidden);

        _site.Write("sub/index.html", "added");

        await AssertAnswersAsync(host, "/sub/", HttpStatusCode.OK, "added");
    }

    /// <summary>Status and body as one string ("200 body"), for comparisons in polls.</summary>
    private static Task<string> AnswerAsync(ServingHost host, string path) => AnswerAsync(host.Client, path);

    /// <summary>An error's body is its standard one ("404 Not Found\n"), shown as "" to keep the comparisons short.</summary>
    private static async Task<string> AnswerAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(StaticFileTests.Uri(path));
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        return $"{status} {(status >= 400 && body == $"{status} {response.ReasonPhrase}\n" ? "" : body)}";
    }

    private static async Task AssertAnswersAsync(ServingHost host, string path, HttpStatusCode status, string body = "") =>
        Assert.Equal($"{(int)status} {body}", await AnswerAsync(host, path));

    /// <summary>Polls until <paramref name="path"/> answers <paramref name="expected"/>; every answer before must be <paramref name="previous"/> (an atomic change).</summary>
    private static Task UntilAnsweredAsync(ServingHost host, string path, string expected, string previous) => Poll.UntilAsync(async () =>
    {
        var answer = await AnswerAsync(host, path);
        if (answer == expected)
        {
            return true;
        }

        Assert.Equal(previous, answer);
        return false;
    }, $"{path} answers {expected}");

    private Task<ServingHost> StartAsync(string root, string staticSettings = "") => ServingHost.StartAsync(
        ServingJson.Config(ServingJson.StaticRoot(root, staticSettings)), services: services => services.AddSingleton<TimeProvider>(_time));
}
