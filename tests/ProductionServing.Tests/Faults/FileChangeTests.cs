using System.Globalization;
using ProductionServing.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProductionServing.Tests.Faults;

/// <summary>
/// A file changed on disk while it is being sent: the client gets a whole version, the old one or the
/// new one, or an aborted connection; never a body whose length matches its Content-Length but whose
/// bytes are a mix of both, or cut short. The file is streamed from disk (above the hot-file cache's
/// 64 KiB), and the client reads slowly, so most of it is still unsent when it changes.
/// </summary>
[Collection(Faults.Name)]
public sealed class FileChangeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Size = FaultHosts.LargeSize;

    private FaultHosts _hosts = null!;
    private int _files;

    public async Task InitializeAsync() => _hosts = await FaultHosts.StartAsync();

    public async Task DisposeAsync() => await _hosts.DisposeAsync();

    public enum Change
    {
        /// <summary>A new version renamed over it (<c>mv</c>, how deploy tools publish atomically).</summary>
        RenamedOver,

        /// <summary>Deleted (<c>rm</c>).</summary>
        Deleted,

        /// <summary>Rewritten in place with other bytes of the same length (<c>cp</c> over it, a log rewritten).</summary>
        RewrittenInPlace,

        /// <summary>Cut to half its length in place.</summary>
        Truncated,
    }

    [LinuxTheory(Faults.ReadsProc)]
    [InlineData(Change.RenamedOver)]
    [InlineData(Change.Deleted)]
    [InlineData(Change.RewrittenInPlace)]
    [InlineData(Change.Truncated)]
    public async Task FileChangedWhileSent_GivesAWholeVersion_OrAnAbortedConnection(Change change)
    {
        await FaultRun.RepeatAsync(async () =>
        {
            // A new file each time: the one before was changed, and the cache may still hold its entry.
            var name = $"changing-{++_files}.bin";
            var before = _hosts.Site.RandomBytes(name, Size, seed: _files);
            using var client = await SlowClient.ConnectAsync(_hosts.Host.Port);
            await client.SendAsync($"GET /{name} HTTP/1.1\r\nHost: localhost\r\n\r\n");
            await client.ReadAtLeastAsync(16 * 1024);

            var after = Apply(change, _hosts.Site.Path_(name), seed: 1000 + _files); // Random(-n) would be Random(n)

            var complete = await client.ReadResponseAsync();
            Assert.StartsWith("HTTP/1.1 200 ", client.Head, StringComparison.Ordinal);
            Assert.Equal(Size, client.ContentLength);
            if (complete)
            {
                var body = client.Body.Span;
                Assert.True(body.SequenceEqual(before) || (after is not null && body.SequenceEqual(after)),
                    $"A body of the announced length that is neither version: the first difference from the old one is at byte {FirstDifference(before, body)}.");
            }
            else
            {
                // The open file is the old version whatever is renamed over it or unlinked (unlink(2)):
                // only a change to that file itself may cost the client its download.
                Assert.True(change is Change.RewrittenInPlace or Change.Truncated, $"{change}: {client.Body.Length} bytes of a {Size}-byte body.");
                await _hosts.Host.Logs.WaitForEventAsync(change == Change.Truncated ? 2001 : 2007, "Path", _hosts.Site.Path_(name));
            }
        }, () => _hosts.AssertServesAsync(), output);
    }

    /// <summary>Changes the file; returns its new content, or null when it has none (deleted or cut).</summary>
    private static byte[]? Apply(Change change, string path, int seed)
    {
        var after = new byte[Size];
        new Random(seed).NextBytes(after);
        switch (change)
        {
            case Change.RenamedOver:
                var next = path + ".next";
                File.WriteAllBytes(next, after);
                File.Move(next, path, overwrite: true);
                return after;
            case Change.Deleted:
                File.Delete(path);
                return null;
            case Change.RewrittenInPlace:
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
                {
                    file.Write(after);
                }

                return after;
            default:
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
                {
                    file.SetLength(Size / 2);
                }

                return null;
        }
    }

    private static string FirstDifference(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        for (var i = 0; i < Math.Min(expected.Length, actual.Length); i++)
        {
            if (expected[i] != actual[i])
            {
                return i.ToString(CultureInfo.InvariantCulture);
            }
        }

        return "none";
    }
}
