namespace ProductionServing;

/// <summary>
/// The hot-file cache shared by every static location: file metadata with prebuilt response headers,
/// and the bytes of small files. On Linux a cached file is checked against the file system only after
/// a change under its folder (inotify) or once a second; elsewhere on every request.
/// </summary>
public sealed class FileCacheOptions
{
    /// <summary>Files up to this size, in bytes, have their contents kept in memory. 0 turns content caching off. Default: 65,536 (64 KiB).</summary>
    public int MaxFileSize { get; set; } = 64 * 1024;

    /// <summary>
    /// The most bytes of file contents kept in memory, over all locations, the compressed copies of
    /// <see cref="LocationOptions.Compress"/> locations included; once reached, further files are streamed
    /// from disk (and sent uncompressed). Default: 67,108,864 (64 MiB).
    /// </summary>
    public long SizeLimit { get; set; } = 64L * 1024 * 1024;
}
