using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Routing;
using ProductionServing.Static;

namespace ProductionServing.Fuzz;

/// <summary>
/// Properties of <see cref="FileLookup.TryMap"/>, nginx's <c>root</c> and <c>alias</c>, for paths the
/// normaliser accepts (as a request target, and as a decoded <c>try_files</c> candidate).
/// </summary>
/// <remarks>
/// For every location below: a path mapped lies in the folder (the folder itself, or below it after a
/// separator, so "/srv/pub" does not admit "/srv/public"), with nothing that a later resolution could
/// read differently ("//", "." or ".." segments); with hidden files refused, no name under the folder
/// starts with '.'. For a root, and for an alias path under its prefix, the mapping is also exact: the
/// folder followed by the rest of the path, and it is refused only for a hidden name. The classic alias
/// traversal, "location /files { alias /srv/pub/; }" taking "/files../x" to "/srv/x", is in the list.
/// <see cref="FileLookup.TryMap"/> does not touch the disk, so neither the folders' contents nor their
/// existence matter here.
/// </remarks>
internal static class MapTarget
{
    private static readonly string Base = Path.Combine(Path.GetTempPath(), "ps-fuzz-root");

    private static readonly Location[] Locations = Create();

    public static void Run(string input)
    {
        if (RequestPath.TryNormalize(input, out var path))
        {
            CheckAll(input, path);
        }

        if (RequestPath.TryNormalizeDecoded(input, out var candidate))
        {
            CheckAll(input, candidate);
        }
    }

    private static void CheckAll(string input, string path)
    {
        foreach (var location in Locations)
        {
            Check(location, input, path);
        }
    }

    private static void Check(Location location, string input, string path)
    {
        var files = location.Files;
        var name = location.Name;
        var mapped = files.TryMap(path, out var physical);
        if (mapped)
        {
            var folder = files.Root;
            var under = folder.EndsWith('/') ? folder : folder + "/";
            PropertyViolationException.Check(physical == folder || physical.StartsWith(under, StringComparison.Ordinal), name + " maps inside its folder", input, physical);
            PropertyViolationException.Check(!physical.Contains("//", StringComparison.Ordinal) && !physical.Contains("/./", StringComparison.Ordinal)
                && !physical.Contains("/../", StringComparison.Ordinal) && !physical.EndsWith("/.", StringComparison.Ordinal) && !physical.EndsWith("/..", StringComparison.Ordinal),
                name + " maps to a resolved path", input, physical);
            if (!location.AllowHidden)
            {
                PropertyViolationException.Check(!physical[folder.Length..].Contains("/.", StringComparison.Ordinal) && !(folder == "/" && physical.StartsWith("/.", StringComparison.Ordinal)),
                    name + " maps no hidden name", input, physical);
            }
        }

        if (ExactMapping(location, path) is { } expected)
        {
            var hidden = !location.AllowHidden && HasHiddenName(path[location.PrefixLength..]);
            PropertyViolationException.Check(mapped != hidden, name + (hidden ? " refuses a hidden name" : " maps every path without a hidden name"), input, path);
            PropertyViolationException.Check(!mapped || physical == expected, name + " maps to " + FuzzTarget.Escape(expected), input, physical);
        }
    }

    /// <summary>The folder followed by the path (a root's whole path, an alias's rest after its prefix); null where no such rule applies.</summary>
    private static string? ExactMapping(Location location, string path)
    {
        var folder = location.Files.Root;
        if (location.Prefix is null)
        {
            return folder.EndsWith('/') ? folder + path[1..] : folder + path;
        }

        // Only a prefix ending in '/' (or a folder ending with one) lines the rest up on a name boundary.
        if (!location.Prefix.EndsWith('/') || !path.StartsWith(location.Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = path[location.Prefix.Length..];
        return rest.Length == 0 ? folder : folder.TrimEnd('/') + "/" + rest;
    }

    private static bool HasHiddenName(string relative) =>
        relative.StartsWith('.') || relative.Contains("/.", StringComparison.Ordinal);

    private static Location[] Create()
    {
        Directory.CreateDirectory(Path.Combine(Base, "pub"));
        var pub = Path.Combine(Base, "pub");
        return
        [
            new("root", Base, null, allowHidden: false),
            new("root (hidden allowed)", Base, null, allowHidden: true),
            new("root /", "/", null, allowHidden: true),
            new("alias /files/ -> pub/", pub + "/", "/files/", allowHidden: false),
            new("alias /files/ -> pub (hidden allowed)", pub, "/files/", allowHidden: true),
            new("alias /files -> pub/ (hidden allowed)", pub + "/", "/files", allowHidden: true),
            new("alias /files -> pub", pub, "/files", allowHidden: false),
            new("alias / -> pub/ (hidden allowed)", pub + "/", "/", allowHidden: true),
        ];
    }

    private sealed class Location(string name, string folder, string? prefix, bool allowHidden)
    {
        public string Name { get; } = name;

        public string? Prefix { get; } = prefix;

        public int PrefixLength => Prefix is null ? 0 : Prefix.Length;

        public bool AllowHidden { get; } = allowHidden;

        // Never cleared: the fuzzing process keeps these for its whole life. A clock that never moves keeps the
        // folder watch's once-a-second timer from running instrumented code on another thread in the middle
        // of an input, which afl would see as coverage varying between runs of the same input (unstable edges).
        public FileLookup Files { get; } = new(folder, prefix, allowHidden, precompressed: false, "application/octet-stream",
            new FileCacheBudget(), maxCachedFileSize: 0, compress: null, new FakeTimeProvider(), NullLogger.Instance);
    }
}
