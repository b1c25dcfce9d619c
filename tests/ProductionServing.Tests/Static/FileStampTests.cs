using ProductionServing.Static;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>The revalidation stamp: one statx on Linux, catching replacements nginx's mtime-and-size miss.</summary>
public sealed class FileStampTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"ps-stamp-{Guid.NewGuid():N}.bin");

    [LinuxFact("statx is Linux's; elsewhere the stamp is FileInfo's size and time")]
    public void Stamp_OnLinux_ComesFromStatx_WithInodeAndChangeTime()
    {
        File.WriteAllBytes(_path, [1, 2, 3]);

        Assert.True(FileStamp.TryRead(_path, out var stamp));

        Assert.Equal(3, stamp.Size);
        Assert.NotEqual(0UL, stamp.Inode);
        Assert.NotEqual(0L, stamp.ChangedSeconds);
        var mtime = File.GetLastWriteTimeUtc(_path).Ticks - DateTime.UnixEpoch.Ticks;
        Assert.Equal(mtime, stamp.ModifiedSeconds * TimeSpan.TicksPerSecond + stamp.ModifiedNanoseconds / 100);
    }

    [LinuxFact("the change time comes from statx")]
    public void SameSizeAndSameModificationTime_StillChangesTheStamp()
    {
        var time = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.WriteAllBytes(_path, [1, 2, 3]);
        File.SetLastWriteTimeUtc(_path, time);
        Assert.True(FileStamp.TryRead(_path, out var before));

        File.WriteAllBytes(_path, [4, 5, 6]);
        File.SetLastWriteTimeUtc(_path, time);
        Assert.True(FileStamp.TryRead(_path, out var after));

        Assert.Equal(before.Size, after.Size);
        Assert.Equal(before.ModifiedSeconds, after.ModifiedSeconds);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void MissingFile_HasNoStamp()
    {
        Assert.False(FileStamp.TryRead(_path + ".missing", out _));
    }

    public void Dispose() => File.Delete(_path);
}
