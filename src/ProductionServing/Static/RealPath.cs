namespace ProductionServing.Static;

/// <summary>
/// Resolves symbolic links in a path, component by component (what POSIX <c>realpath</c> does), so a
/// link whose target lies outside a static root can be refused: <c>Path.GetFullPath</c> does not
/// resolve links, and <c>ResolveLinkTarget</c> only looks at the last component.
/// </summary>
internal static class RealPath
{
    /// <summary>Linux's limit on links followed in one lookup (ELOOP).</summary>
    private const int MaxLinks = 40;

    /// <summary>The path with every link resolved, or null when a link loops or cannot be read.</summary>
    public static string? Resolve(string fullPath)
    {
        var links = 0;
        return Resolve(fullPath, ref links);
    }

    private static string? Resolve(string fullPath, ref int links)
    {
        var result = Path.GetPathRoot(fullPath);
        if (string.IsNullOrEmpty(result))
        {
            return null;
        }

        var rest = fullPath.AsSpan(result.Length);
        foreach (var range in rest.SplitAny(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar))
        {
            var segment = rest[range];
            if (segment.IsEmpty)
            {
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

            // A relative target is relative to the folder holding the link; the target itself may
            // pass through further links, so it is resolved from its own root.
            var resolved = Resolve(Path.GetFullPath(target, Path.GetDirectoryName(candidate)!), ref links);
            if (resolved is null)
            {
                return null;
            }

            result = resolved;
        }

        return result;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> or lies below it (both real, full paths).</summary>
    public static bool IsUnder(string path, string root) =>
        path.Length == root.Length
            ? string.Equals(path, root, StringComparison.Ordinal)
            : path.StartsWith(root, StringComparison.Ordinal)
              && (root.EndsWith(Path.DirectorySeparatorChar) || path[root.Length] == Path.DirectorySeparatorChar);
}
