namespace ProductionServing.Static;

/// <summary>
/// Resolves symbolic links in a path the way the kernel walks it (what POSIX <c>realpath</c> does), so
/// a link whose target lies outside a static root can be refused: <c>Path.GetFullPath</c> does not
/// resolve links, and <c>ResolveLinkTarget</c> only looks at the last component.
/// </summary>
/// <remarks>
/// Segments are taken one at a time against the path resolved so far, and a link's target is spliced
/// in front of the segments still to walk. So ".." always means the parent of the resolved folder, as
/// for the kernel: with <c>x -> /etc/ssl</c>, <c>evil -> x/../passwd</c> is <c>/etc/passwd</c>, not
/// <c>&lt;root&gt;/passwd</c>, which a textual resolution of the target would conclude.
/// </remarks>
internal static class RealPath
{
    /// <summary>Linux's limit on links followed in one lookup (ELOOP).</summary>
    private const int MaxLinks = 40;

    /// <summary>The path with every link resolved, or null when a link loops or cannot be read.</summary>
    public static string? Resolve(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath);
        if (string.IsNullOrEmpty(root))
        {
            return null;
        }

        var pending = new List<string>(Split(fullPath[root.Length..]));
        var result = root;
        var links = 0;
        while (pending.Count > 0)
        {
            var segment = pending[0];
            pending.RemoveAt(0);
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                result = Path.GetDirectoryName(result) ?? result;
                continue;
            }

            var candidate = Path.Join(result, segment);
            var target = new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                result = candidate;
                continue;
            }

            if (++links > MaxLinks)
            {
                return null;
            }

            // An absolute target restarts from its root; a relative one continues from the link's folder.
            var targetRoot = Path.GetPathRoot(target);
            if (!string.IsNullOrEmpty(targetRoot))
            {
                result = targetRoot;
                target = target[targetRoot.Length..];
            }

            pending.InsertRange(0, Split(target));
        }

        return result;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> or lies below it (both real, full paths).</summary>
    public static bool IsUnder(string path, string root) =>
        path.Length == root.Length
            ? string.Equals(path, root, StringComparison.Ordinal)
            : path.StartsWith(root, StringComparison.Ordinal)
              && (root.EndsWith(Path.DirectorySeparatorChar) || path[root.Length] == Path.DirectorySeparatorChar);

    private static string[] Split(string path) => path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar]);
}
