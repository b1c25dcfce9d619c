using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ProductionServing.Static;

/// <summary>
/// What revalidation compares: a file's size, modification time, status-change time and inode, read
/// with one <c>statx</c> system call on Linux. The change time and inode also catch a file replaced
/// under the same size and modification time (reproducible builds, <c>touch -r</c>, rename-over
/// deployments), which nginx's mtime-and-size validators miss.
/// </summary>
/// <remarks>
/// .NET has no call returning size and time together: <c>FileInfo.Length</c> costs a second system
/// call (docs/performance.md, "Static files"). Elsewhere, or where
/// <c>statx</c> is missing, the stamp falls back to <see cref="FileInfo"/> (size and modification time).
/// </remarks>
internal readonly partial record struct FileStamp(long Size, long ModifiedSeconds, long ModifiedNanoseconds, long ChangedSeconds, long ChangedNanoseconds, ulong Inode)
{
    private const int AtFdCwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const int EPERM = 1;
    private const int ENOSYS = 38;
    private const uint StatxBasicStats = 0x7FF;
    private static bool s_statxMissing = !OperatingSystem.IsLinux();

    /// <summary>The modification time as a UTC <see cref="DateTime"/> (100 ns precision).</summary>
    public DateTime LastWriteUtc => new(DateTime.UnixEpoch.Ticks + ModifiedSeconds * TimeSpan.TicksPerSecond + ModifiedNanoseconds / 100, DateTimeKind.Utc);

    /// <summary>Whether the size and modification time, what a write to the file changes, are <paramref name="other"/>'s.</summary>
    public bool HasSameContentAs(FileStamp other) =>
        Size == other.Size && ModifiedSeconds == other.ModifiedSeconds && ModifiedNanoseconds == other.ModifiedNanoseconds;

    /// <summary>The stamp of the file at <paramref name="path"/> (links followed, as opening does); false when there is none.</summary>
    public static bool TryRead(string path, out FileStamp stamp)
    {
        if (TryStatx(AtFdCwd, path, 0, out stamp) is { } found)
        {
            return found;
        }

        var info = new FileInfo(path);
        stamp = info.Exists ? FromSizeAndTime(info.Length, info.LastWriteTimeUtc) : default;
        return info.Exists;
    }

    /// <summary>The stamp of the file open as <paramref name="handle"/>; false when it cannot be read.</summary>
    public static bool TryRead(SafeFileHandle handle, out FileStamp stamp)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (TryStatx((int)handle.DangerousGetHandle(), "", AtEmptyPath, out stamp) is { } found)
            {
                return found;
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        stamp = FromSizeAndTime(RandomAccess.GetLength(handle), File.GetLastWriteTimeUtc(handle));
        return true;
    }

    /// <summary>One <c>statx</c>: whether the file is there, or null where <c>statx</c> is missing.</summary>
    private static bool? TryStatx(int directory, string path, int flags, out FileStamp stamp)
    {
        stamp = default;
        if (Volatile.Read(ref s_statxMissing))
        {
            return null;
        }

        try
        {
            if (Statx(directory, path, flags, StatxBasicStats, out var buffer) == 0)
            {
                stamp = buffer.ToStamp();
                return true;
            }

            // A sandbox may refuse the call itself (seccomp profiles answer EPERM, old kernels ENOSYS):
            // that is no answer about the file, so fall back for good.
            var error = Marshal.GetLastPInvokeError();
            if (error is not (ENOSYS or EPERM))
            {
                return false;
            }

            Volatile.Write(ref s_statxMissing, true);
            return null;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref s_statxMissing, true);
            return null;
        }
    }

    /// <summary>Where <c>statx</c> is missing: what <see cref="FileInfo"/> tells.</summary>
    private static FileStamp FromSizeAndTime(long size, DateTime lastWriteUtc)
    {
        var ticks = lastWriteUtc.Ticks - DateTime.UnixEpoch.Ticks;
        return new FileStamp(size, ticks / TimeSpan.TicksPerSecond, ticks % TimeSpan.TicksPerSecond * 100, 0, 0, 0);
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directory, string path, int flags, uint mask, out StatxBuffer buffer);

    /// <summary>Linux's <c>struct statx</c> (256 bytes, the same layout on every architecture).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(32)]
        public ulong Inode;

        [FieldOffset(40)]
        public ulong Size;

        [FieldOffset(96)]
        public long CTimeSeconds;

        [FieldOffset(104)]
        public uint CTimeNanoseconds;

        [FieldOffset(112)]
        public long MTimeSeconds;

        [FieldOffset(120)]
        public uint MTimeNanoseconds;

        public readonly FileStamp ToStamp() => new((long)Size, MTimeSeconds, MTimeNanoseconds, CTimeSeconds, CTimeNanoseconds, Inode);
    }
}
