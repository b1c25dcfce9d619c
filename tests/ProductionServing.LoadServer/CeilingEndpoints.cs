using System.Globalization;
using Microsoft.AspNetCore.StaticFiles;

namespace ProductionServing.LoadServer;

/// <summary>
/// The hand-written ceiling of the static-file benchmark: each small file cached as a
/// <c>byte[]</c> and written by a minimal endpoint. No file system, no range or precondition logic
/// beyond <c>If-None-Match</c>: no static file server in this process can be faster.
/// </summary>
internal static class CeilingEndpoints
{
    /// <summary>Files above this size are left out: the ceiling is for small files only.</summary>
    public const long MaxFileLength = 64 * 1024;

    public static void Map(WebApplication app, string root)
    {
        var contentTypes = new FileExtensionContentTypeProvider();
        foreach (var path in Directory.EnumerateFiles(root))
        {
            var info = new FileInfo(path);
            if (info.Length > MaxFileLength)
            {
                continue;
            }

            var modified = new DateTimeOffset(info.LastWriteTimeUtc);
            // The same shape as nginx's ETag: "<mtime seconds hex>-<length hex>".
            var etag = string.Create(CultureInfo.InvariantCulture, $"\"{modified.ToUnixTimeSeconds():x}-{info.Length:x}\"");
            var file = new CachedFile(
                File.ReadAllBytes(path),
                contentTypes.TryGetContentType(info.Name, out var type) ? type : "application/octet-stream",
                etag,
                modified.ToString("r", CultureInfo.InvariantCulture));
            // One delegate per file, built here; the request path captures nothing new.
            app.MapGet("/" + info.Name, context => Serve(context, file));
        }
    }

    private static Task Serve(HttpContext context, CachedFile file)
    {
        var response = context.Response;
        var headers = response.Headers;
        headers.ETag = file.ETag;
        headers.LastModified = file.LastModified;

        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count == 1 && string.Equals(ifNoneMatch[0], file.ETagText, StringComparison.Ordinal))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        headers.ContentType = file.ContentType;
        response.ContentLength = file.Bytes.Length;
        var write = response.BodyWriter.WriteAsync(file.Bytes);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }
}
