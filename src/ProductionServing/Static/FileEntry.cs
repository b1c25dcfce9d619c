using System.Globalization;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ProductionServing.Static;

/// <summary>
/// One version of one file: its identity on disk, its response headers prebuilt, and (for small files)
/// its bytes. Immutable: a changed file gets a new entry, so bytes and validators always agree.
/// </summary>
internal sealed class FileEntry
{
    /// <summary>The file's stamp when this entry was read; <see cref="IsCurrent(FolderWatch)"/> compares a fresh one.</summary>
    private readonly FileStamp _stamp;

    /// <summary>The <see cref="FolderWatch.Generation"/> at which the stamp last matched the disk; 0: never.</summary>
    private long _checkedGeneration;

    /// <summary>When the stamp last matched the disk (<see cref="FolderWatch.Timestamp"/>).</summary>
    private long _checkedAt;

    private FileEntry(string physicalPath, FileStamp stamp, long length, DateTime lastWriteUtc, StringValues contentType, string? encoding, byte[]? bytes,
        FileEntry? brotli, FileEntry? gzip, bool isCompressedCopy = false)
    {
        _stamp = stamp;
        IsCompressedCopy = isCompressedCopy;
        Brotli = brotli;
        Gzip = gzip;
        PhysicalPath = physicalPath;
        Length = length;
        LastWriteTicks = lastWriteUtc.Ticks;
        LastModified = new DateTimeOffset(lastWriteUtc.Ticks - (lastWriteUtc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        ContentType = contentType;
        Bytes = bytes;

        // nginx's shape ("mtime-length" in hex), strong; the coding is part of the tag because a
        // precompressed variant or a compressed copy is a different representation (RFC 9110 §8.8.3). A
        // copy's tag is strong too: its bytes are what this entry holds, and they change only with the file.
        var tag = encoding is null
            ? string.Create(CultureInfo.InvariantCulture, $"\"{LastWriteTicks:x}-{length:x}\"")
            : string.Create(CultureInfo.InvariantCulture, $"\"{LastWriteTicks:x}-{length:x}-{encoding}\"");
        ETagText = tag;
        ETag = tag;
        LastModifiedHeader = HeaderUtilities.FormatDate(LastModified);
        ContentEncoding = encoding;
    }

    public string PhysicalPath { get; }

    public long Length { get; }

    /// <summary>The file's last write time in ticks, as the file system reports it: what revalidation compares.</summary>
    public long LastWriteTicks { get; }

    /// <summary>The last write time at HTTP-date precision (whole seconds).</summary>
    public DateTimeOffset LastModified { get; }

    public StringValues ContentType { get; }

    public string ETagText { get; }

    public StringValues ETag { get; }

    public StringValues LastModifiedHeader { get; }

    /// <summary>The <c>Content-Encoding</c> of a precompressed variant (<c>br</c>, <c>gzip</c>); null for the file itself.</summary>
    public StringValues ContentEncoding { get; }

    /// <summary>The file's contents when it is small enough to keep in memory; otherwise null (streamed from disk).</summary>
    public byte[]? Bytes { get; }

    /// <summary>The <c>.br</c> sidecar, when precompressed serving is on and one exists.</summary>
    public FileEntry? Brotli { get; }

    /// <summary>The <c>.gz</c> sidecar, when precompressed serving is on and one exists.</summary>
    public FileEntry? Gzip { get; }

    public bool HasVariants => Brotli is not null || Gzip is not null;

    /// <summary>
    /// Whether this is a copy of the file compressed in memory (a location's <c>Compress</c>), not a sidecar on
    /// disk: it is current exactly as long as the file is, and ranges of it are never served (a range of compressed bytes would not be the range asked for).
    /// </summary>
    public bool IsCompressedCopy { get; }

    /// <summary>
    /// Whether the file on disk is still this version. Without a system call when the bytes are in
    /// memory, nothing has changed under the folder since the last check (<paramref name="watch"/>) and
    /// that check is less than <see cref="FolderWatch.TrustPeriod"/> old; otherwise one <c>statx</c>
    /// (see <see cref="FileStamp"/>). A file streamed from disk is always checked: it is opened by path
    /// after this, and must be the version checked.
    /// </summary>
    public bool IsCurrent(FolderWatch watch)
    {
        // Read before the stat: a change after it moves the generation on, and the next request checks again.
        var generation = watch.Generation;
        var now = watch.Timestamp();
        if (generation != 0 && Bytes is not null && generation == Volatile.Read(ref _checkedGeneration)
            && now - Volatile.Read(ref _checkedAt) < watch.TrustTicks)
        {
            return true;
        }

        if (!FileStamp.TryRead(PhysicalPath, out var stamp) || stamp != _stamp)
        {
            return false;
        }

        // Two requests storing at once may pair one's generation with the other's time: both checks
        // passed, so either pair is a time the file was still this version.
        Volatile.Write(ref _checkedAt, now);
        Volatile.Write(ref _checkedGeneration, generation);
        return true;
    }

    /// <summary>
    /// Whether an open handle is to this version: the same stamp, identity included (inode, change
    /// time), so the file opened by path is the one checked, not another put in its place since.
    /// </summary>
    public bool IsCurrent(Microsoft.Win32.SafeHandles.SafeFileHandle handle) => FileStamp.TryRead(handle, out var stamp) && stamp == _stamp;

    /// <summary>
    /// Whether the file open as <paramref name="handle"/>, this version when it was opened, still holds
    /// the same bytes: the same size and modification time. Its change time is not compared: renaming
    /// another file over it or unlinking it changes its link count, and so its change time, but not what
    /// a read of the open file returns.
    /// </summary>
    public bool IsUnwritten(Microsoft.Win32.SafeHandles.SafeFileHandle handle) => FileStamp.TryRead(handle, out var stamp) && stamp.HasSameContentAs(_stamp);

    /// <summary>Reads an entry from an open handle, so the validators describe exactly the bytes read.</summary>
    public static FileEntry FromHandle(string physicalPath, Microsoft.Win32.SafeHandles.SafeFileHandle handle, StringValues contentType,
        string? encoding, FileCacheBudget budget, int maxCachedFileSize, FileEntry? brotli, FileEntry? gzip)
    {
        if (!FileStamp.TryRead(handle, out var stamp))
        {
            throw new IOException($"The status of {physicalPath} cannot be read.");
        }

        var length = stamp.Size;
        var lastWrite = stamp.LastWriteUtc;

        // The stamp is the open file's, and must also be the path's after the open: if the path already
        // names another version, the entry gets a stamp that never matches, so the next request loads
        // the file again.
        if (!FileStamp.TryRead(physicalPath, out var byPath) || byPath != stamp)
        {
            stamp = new FileStamp(-1, 0, 0, 0, 0, 0);
        }

        byte[]? bytes = null;
        if (length <= maxCachedFileSize && budget.TryReserve(length))
        {
            try
            {
                bytes = new byte[length];
                var read = 0;
                while (read < bytes.Length)
                {
                    var n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
                    if (n == 0)
                    {
                        // Truncated while we read it: do not cache a short copy under the old length.
                        bytes = null;
                        break;
                    }

                    read += n;
                }
            }
            finally
            {
                if (bytes is null)
                {
                    budget.Release(length);
                }
            }
        }

        return new FileEntry(physicalPath, stamp, length, lastWrite, contentType, encoding, bytes, brotli, gzip);
    }

    /// <summary>A copy of <paramref name="file"/> compressed in memory into <paramref name="bytes"/> (already reserved in the budget).</summary>
    public static FileEntry CompressedCopyOf(FileEntry file, byte[] bytes, string encoding) =>
        new(file.PhysicalPath, file._stamp, bytes.Length, new DateTime(file.LastWriteTicks, DateTimeKind.Utc), file.ContentType, encoding, bytes,
            brotli: null, gzip: null, isCompressedCopy: true);

    /// <summary>This version of the file with <paramref name="brotli"/> and <paramref name="gzip"/> as its variants.</summary>
    public FileEntry WithVariants(FileEntry? brotli, FileEntry? gzip) =>
        new(PhysicalPath, _stamp, Length, new DateTime(LastWriteTicks, DateTimeKind.Utc), ContentType, encoding: null, Bytes, brotli, gzip);

    /// <summary>Gives back the memory this entry's bytes reserved in the cache budget.</summary>
    public void Release(FileCacheBudget budget)
    {
        if (Bytes is not null)
        {
            budget.Release(Bytes.Length);
        }

        Brotli?.Release(budget);
        Gzip?.Release(budget);
    }
}
