using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Static;

/// <summary>
/// The folder listing of <see cref="StaticOptions.AutoIndex"/>, in nginx's layout: names (HTML-escaped,
/// links percent-escaped), modification dates and sizes; hidden entries left out.
/// </summary>
internal static class AutoIndexPage
{
    /// <param name="context">The request.</param>
    /// <param name="folder">The folder's physical path.</param>
    /// <param name="path">The folder's request path, for the title.</param>
    /// <param name="allowHidden">Whether dot-entries are listed.</param>
    /// <param name="files">The location's files: entries that are links out of its root are not listed.</param>
    public static Task WriteAsync(HttpContext context, string folder, string path, bool allowHidden, FileLookup files)
    {
        DirectoryInfo directory;
        FileSystemInfo[] entries;
        try
        {
            directory = new DirectoryInfo(folder);
            entries = directory.GetFileSystemInfos();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone or unreadable since it was found.
            return ErrorResponse.Answer(context, ServingError.FileNotFound, ex);
        }

        Array.Sort(entries, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var html = HtmlEncoder.Default;
        var title = html.Encode(path);
        var page = new StringBuilder(256 + (entries.Length * 128));
        page.Append("<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>Index of ").Append(title)
            .Append("</title></head>\n<body>\n<h1>Index of ").Append(title).Append("</h1><hr><pre><a href=\"../\">../</a>\n");
        foreach (var entry in entries)
        {
            if ((!allowHidden && entry.Name.StartsWith('.')) || (entry.LinkTarget is not null && !files.IsInsideRoot(entry.FullName)))
            {
                continue;
            }

            var isFolder = entry is DirectoryInfo;
            var name = isFolder ? entry.Name + "/" : entry.Name;
            page.Append("<a href=\"").Append(html.Encode(Uri.EscapeDataString(entry.Name))).Append(isFolder ? "/" : "").Append("\">")
                .Append(html.Encode(name)).Append("</a>");
            page.Append(' ', Math.Max(1, 51 - name.Length));
            page.Append(entry.LastWriteTimeUtc.ToString("dd-MMM-yyyy HH:mm", CultureInfo.InvariantCulture));
            var size = isFolder ? "-" : ((FileInfo)entry).Length.ToString(CultureInfo.InvariantCulture);
            page.Append(' ', Math.Max(1, 20 - size.Length)).Append(size).Append('\n');
        }

        page.Append("</pre><hr></body>\n</html>\n");
        var bytes = Encoding.UTF8.GetBytes(page.ToString());
        var response = context.Response;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(bytes, 0, bytes.Length, context.RequestAborted);
    }
}
