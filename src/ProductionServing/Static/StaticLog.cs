using Microsoft.Extensions.Logging;

namespace ProductionServing.Static;

/// <summary>Static file log messages (event ids 2000–2999).</summary>
internal static partial class StaticLog
{
    [LoggerMessage(EventId = 2001, EventName = "FileTruncated", Level = LogLevel.Warning,
        Message = "File {Path} was truncated while it was sent ({Expected} bytes expected, {Actual} available); the connection was aborted.")]
    public static partial void FileTruncated(ILogger logger, string path, long expected, long actual);

    [LoggerMessage(EventId = 2002, EventName = "FileVanished", Level = LogLevel.Warning,
        Message = "File {Path} changed or disappeared between its lookup and its transfer; the connection was aborted.")]
    public static partial void FileVanished(ILogger logger, string path, Exception? exception);

    [LoggerMessage(EventId = 2006, EventName = "FolderUnwatched", Level = LogLevel.Warning,
        Message = "Changes under {Folder} cannot be watched; its cached files are checked against the disk on every request.")]
    public static partial void FolderUnwatched(ILogger logger, string folder, Exception exception);

    [LoggerMessage(EventId = 2007, EventName = "FileRewritten", Level = LogLevel.Warning,
        Message = "File {Path} was written to while it was sent; the connection was aborted before the end of the body.")]
    public static partial void FileRewritten(ILogger logger, string path);
}
