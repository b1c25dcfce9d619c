using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>
/// The hot-file cache serves a changed file's new version as soon as the change is seen (never a mix of
/// old and new bytes and validators), and large files stream with bounded memory.
/// Not run in parallel with other tests: one test measures the process's allocations.
/// </summary>
[Collection(nameof(FileCacheTests))]
[CollectionDefinition(nameof(FileCacheTests), DisableParallelization = true)]
public sealed class FileCacheTests : IAsyncLifetime, IDisposable
{
    private readonly StaticSite _site = new();
    private ServingHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.StaticRoot(_site.Root)));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _site.Dispose();

    [Theory]
    [InlineData(16)]            // cached in memory
    [InlineData(200 * 1024)]    // streamed from disk
    public async Task RewrittenFile_IsServedWithNewBytesAndANewETag(int size)
    {
        var path = _site.Path_("changing.bin");
        var first = _site.RandomBytes("changing.bin", size, seed: 10);
        var before = await _host.Client.GetAsync(StaticFileTests.Uri("/changing.bin"));
        await _host.Client.GetAsync(StaticFileTests.Uri("/changing.bin")); // a second time: cached and checked, so trusted if watched
        Assert.Equal(first, await before.Content.ReadAsByteArrayAsync());

        var second = _site.RandomBytes("changing.bin", size, seed: 11);
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(5));
        await FileVersions.UntilServedAsync(_host.Client, "/changing.bin", second, before);

        // The old validator no longer matches: the client gets the new file, not 304.
        var revalidate = new HttpRequestMessage(HttpMethod.Get, StaticFileTests.Uri("/changing.bin"));
        revalidate.Headers.TryAddWithoutValidation("If-None-Match", before.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await _host.Client.SendAsync(revalidate)).StatusCode);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(200 * 1024)]
    public async Task ReplacedFileWithTheSameTimestamp_IsNoticedByItsLength(int size)
    {
        // Reproducible builds stamp every file with one fixed time: the length still tells them apart.
        var path = _site.Path_("stamped.bin");
        var stamp = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        _site.RandomBytes("stamped.bin", size, seed: 20);
        File.SetLastWriteTimeUtc(path, stamp);
        var before = await _host.Client.GetAsync(StaticFileTests.Uri("/stamped.bin"));
        await _host.Client.GetAsync(StaticFileTests.Uri("/stamped.bin")); // a second time: cached and checked, so trusted if watched

        var replacement = _site.RandomBytes("stamped.bin", size + 1, seed: 21);
        File.SetLastWriteTimeUtc(path, stamp);

        await FileVersions.UntilServedAsync(_host.Client, "/stamped.bin", replacement, before);
    }

    [LinuxFact("the status-change time comes from statx; elsewhere size and time are all there is")]
    public async Task ReplacedFileWithTheSameSizeAndTimestamp_IsNoticedOnLinux()
    {
        var path = _site.Path_("twin.bin");
        var stamp = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        _site.RandomBytes("twin.bin", 64, seed: 30);
        File.SetLastWriteTimeUtc(path, stamp);
        var before = await _host.Client.GetAsync(StaticFileTests.Uri("/twin.bin"));
        await _host.Client.GetAsync(StaticFileTests.Uri("/twin.bin")); // a second time: cached and checked, so trusted if watched

        var replacement = _site.RandomBytes("twin.bin", 64, seed: 31);
        File.SetLastWriteTimeUtc(path, stamp);

        await FileVersions.UntilServedAsync(_host.Client, "/twin.bin", replacement, before, sameETag: true);
    }

    [Fact]
    public async Task DeletedFile_Gets404()
    {
        _site.Write("doomed.txt", "here");
        Assert.Equal("here", await _host.Client.GetStringAsync(StaticFileTests.Uri("/doomed.txt")));
        Assert.Equal("here", await _host.Client.GetStringAsync(StaticFileTests.Uri("/doomed.txt")));

        File.Delete(_site.Path_("doomed.txt"));

        await Poll.UntilAsync(async () => (await _host.Client.GetAsync(StaticFileTests.Uri("/doomed.txt"))).StatusCode == HttpStatusCode.NotFound,
            "the deleted file is 404");
    }

    [Fact]
    public async Task LargeFile_ArrivesIntact_WithoutGrowingMemoryByItsSize()
    {
        const int Size = 64 * 1024 * 1024;
        var bytes = _site.RandomBytes("huge.bin", Size, seed: 12);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[81920];

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using (var response = await _host.Client.GetAsync(StaticFileTests.Uri("/huge.bin"), HttpCompletionOption.ResponseHeadersRead))
        await using (var stream = await response.Content.ReadAsStreamAsync())
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
            }
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.Equal(StaticSite.Sha256(bytes), Convert.ToHexString(sha.GetHashAndReset()));
        Assert.True(allocated < Size / 4, $"{allocated:N0} bytes allocated while serving and reading {Size:N0} bytes");
    }

    [Fact]
    public async Task FileTruncatedWhileStreaming_AbortsTheTransfer()
    {
        const int Size = 64 * 1024 * 1024;
        _site.RandomBytes("shrinking.bin", Size, seed: 13);
        using var response = await _host.Client.GetAsync(StaticFileTests.Uri("/shrinking.bin"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(Size, response.Content.Headers.ContentLength);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        Assert.True(await stream.ReadAsync(buffer) > 0);

        using (var file = new FileStream(_site.Path_("shrinking.bin"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            file.SetLength(1024 * 1024);
        }

        // Reading on must fail promptly because the server aborted the connection: not end cleanly
        // with fewer bytes, and not hang waiting for bytes that will never come (the timeout).
        using var timeout = new CancellationTokenSource(TestTimeouts.Long);
        var exception = await Record.ExceptionAsync(async () =>
        {
            while (await stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        });
        Assert.IsAssignableFrom<IOException>(exception);
    }
}
