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

    private FileEntry(string physicalPath, FileStamp stamp, long length, DateTime lastWriteUtc, StringValues contentType, string? encoding, byte[]? bytes,
        FileEntry? brotli, FileEntry? gzip)
    {
        _stamp = stamp;
        Brotli = brotli;
        Gzip = gzip;
        PhysicalPath = physicalPath;
        Length = length;
        LastWriteTicks = lastWriteUtc.Ticks;
        LastModified = new DateTimeOffset(lastWriteUtc.Ticks - (lastWriteUtc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        ContentType = contentType;
        Bytes = bytes;

        // nginx's shape ("mtime-length" in hex), strong; the coding is part of the tag because a
        // precompressed variant is a different representation (RFC 9110 §8.8.3).
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
    /// Whether the file on disk is still this version: without a system call while nothing has changed
    /// under the folder since the last check (<paramref name="watch"/>), otherwise one <c>statx</c>
    /// (see <see cref="FileStamp"/>).
    /// </summary>
    public bool IsCurrent(FolderWatch watch)
    {
        // Read before the stat: a change after it moves the generation on, and the next request checks again.
        var generation = watch.Generation;
        if (generation != 0 && generation == Volatile.Read(ref _checkedGeneration))
        {
            return true;
        }

        if (!FileStamp.TryRead(PhysicalPath, out var now) || now != _stamp)
        {
            return false;
        }

        Volatile.Write(ref _checkedGeneration, generation);
        return true;
    }

    /// <summary>Whether an open handle is to this version (one <c>fstat</c>).</summary>
    public bool IsCurrent(Microsoft.Win32.SafeHandles.SafeFileHandle handle) =>
        RandomAccess.GetLength(handle) == Length && File.GetLastWriteTimeUtc(handle).Ticks == LastWriteTicks;

    /// <summary>Reads an entry from an open handle, so the validators describe exactly the bytes read.</summary>
    public static FileEntry FromHandle(string physicalPath, Microsoft.Win32.SafeHandles.SafeFileHandle handle, StringValues contentType,
        string? encoding, FileCacheBudget budget, int maxCachedFileSize, FileEntry? brotli, FileEntry? gzip)
    {
        var length = RandomAccess.GetLength(handle);
        var lastWrite = File.GetLastWriteTimeUtc(handle);

        // The stamp is read by path after the open; if the path already names another version, the
        // entry gets a stamp that never matches, so the next request loads the file again.
        if (!FileStamp.TryRead(physicalPath, out var stamp) || stamp.Size != length
            || stamp.ModifiedSeconds * TimeSpan.TicksPerSecond + stamp.ModifiedNanoseconds / 100 != lastWrite.Ticks - DateTime.UnixEpoch.Ticks)
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
