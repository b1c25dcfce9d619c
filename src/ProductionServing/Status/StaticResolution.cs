using System.Text.Json;
using ProductionServing.Routing;
using ProductionServing.Static;

namespace ProductionServing.Status;

/// <summary>
/// What a static location would serve for a path, for the <c>match</c> answer: the same steps as
/// <see cref="StaticHandler"/> (<c>try_files</c> candidates, folder redirect, index, listing), each file
/// looked up with the location's own <see cref="FileLookup.TryMap"/> and <see cref="FileLookup.IsInsideRoot"/>.
/// </summary>
/// <remarks>
/// Read-only: nothing is loaded, cached or served, and a path that is hidden, climbs out of the root or
/// reaches outside it through a link is reported as not found, without its physical path, as a client
/// would see it. Only a file or folder that the handler would serve has its physical path shown.
/// </remarks>
internal static class StaticResolution
{
    public static void Write(Utf8JsonWriter json, StaticHandler handler, string path)
    {
        json.WriteString("handler", "static");
        json.WriteString("root", handler.Files.Root);
        if (handler.TryFiles is not { } plan)
        {
            WriteOutcome(json, handler, path, Look(handler.Files, path, out var physical), physical);
            return;
        }

        json.WriteStartArray("try_files");
        foreach (var template in plan.Candidates)
        {
            var expanded = TryFilesPlan.Expand(template, path);
            var wantsFolder = template.EndsWith('/');
            var kind = FileKind.Missing;
            string? physical = null;
            var candidate = expanded;
            if (RequestPath.TryNormalizeDecoded(wantsFolder && expanded.Length > 1 ? expanded.AsSpan(0, expanded.Length - 1) : expanded, out var normalized))
            {
                candidate = normalized;
                kind = Look(handler.Files, candidate, out physical);
            }

            var taken = (kind == FileKind.File && !wantsFolder) || (kind == FileKind.Directory && wantsFolder);
            json.WriteStartObject();
            json.WriteString("entry", template);
            json.WriteString("path", candidate);
            json.WriteString("found", kind == FileKind.File ? "file" : kind == FileKind.Directory ? "directory" : "nothing");
            json.WriteBoolean("taken", taken);
            json.WriteEndObject();
            if (taken)
            {
                json.WriteEndArray();
                WriteOutcome(json, handler, candidate, kind, physical);
                return;
            }
        }

        json.WriteEndArray();
        if (plan.FallbackToApp)
        {
            json.WriteString("result", "@app fallback");
            json.WriteString("detail", "no entry was found: the app serves it through the default pool");
        }
        else if (plan.FallbackStatus != 0)
        {
            json.WriteString("result", "status");
            json.WriteNumber("status", plan.FallbackStatus);
        }
        else
        {
            json.WriteString("result", "internal redirect");
            json.WriteString("detail", "to " + TryFilesPlan.ExpandFallback(plan.FallbackUri!, path, "") + ", matched again (ask for that path to see where it goes)");
        }
    }

    private static void WriteOutcome(Utf8JsonWriter json, StaticHandler handler, string path, FileKind kind, string? physical)
    {
        switch (kind)
        {
            case FileKind.File:
                json.WriteString("result", "file");
                json.WriteNumber("status", 200);
                json.WriteString("file", physical);
                return;
            case FileKind.Directory when !path.EndsWith('/'):
                json.WriteString("result", "redirect");
                json.WriteNumber("status", 301);
                json.WriteString("detail", "a folder: 301 to " + path + "/");
                return;
            case FileKind.Directory:
                foreach (var name in handler.IndexNames)
                {
                    if (Look(handler.Files, path + name, out var index) == FileKind.File)
                    {
                        json.WriteString("result", "index file");
                        json.WriteNumber("status", 200);
                        json.WriteString("file", index);
                        return;
                    }
                }

                json.WriteString("result", handler.AutoIndex ? "directory listing" : "forbidden");
                json.WriteNumber("status", handler.AutoIndex ? 200 : 403);
                json.WriteString("file", handler.AutoIndex ? physical : null);
                return;
            default:
                json.WriteString("result", "not found");
                json.WriteNumber("status", 404);
                json.WriteNull("file");
                return;
        }
    }

    /// <summary>What <paramref name="path"/> names, by the location's own rules, with its physical path when it may be served.</summary>
    private static FileKind Look(FileLookup files, string path, out string? physical)
    {
        physical = null;
        if (!files.TryMap(path, out var mapped))
        {
            return FileKind.Missing;
        }

        FileKind kind;
        if (File.Exists(mapped))
        {
            kind = FileKind.File;
        }
        else if (Directory.Exists(mapped))
        {
            kind = FileKind.Directory;
        }
        else
        {
            return FileKind.Missing;
        }

        if (!files.IsInsideRoot(mapped))
        {
            return FileKind.Missing;
        }

        physical = mapped;
        return kind;
    }
}
