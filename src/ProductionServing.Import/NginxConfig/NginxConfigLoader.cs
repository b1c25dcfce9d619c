namespace ProductionServing.Import.NginxConfig;

/// <summary>
/// Reads an nginx configuration file with its <c>include</c>s resolved in place, as nginx reads them: a relative
/// path is taken from the main file's folder (nginx's configuration prefix when it is started with that file),
/// and a pattern (<c>conf.d/*.conf</c>) includes every match in name order, none being no error, where a plain
/// path that does not exist is one.
/// </summary>
internal static class NginxConfigLoader
{
    /// <summary>How deep includes may nest: deeper is taken for a loop (a file that includes itself).</summary>
    private const int MaxDepth = 16;

    /// <summary>The directives of the file at <paramref name="path"/>, includes resolved.</summary>
    /// <exception cref="NginxConfigException">A file is malformed or an include cannot be read; the message says where.</exception>
    public static IReadOnlyList<NginxDirective> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var prefix = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NginxConfigException(new SourcePosition(path, 1, 1), $"cannot be read: {e.Message}");
        }

        return Resolve(NginxConfigReader.Read(text, path), prefix, depth: 0);
    }

    private static List<NginxDirective> Resolve(IReadOnlyList<NginxDirective> directives, string prefix, int depth)
    {
        var resolved = new List<NginxDirective>(directives.Count);
        foreach (var directive in directives)
        {
            if (directive.Name == "include" && directive.Block is null)
            {
                resolved.AddRange(Include(directive, prefix, depth));
            }
            else if (directive.Block is { } block)
            {
                resolved.Add(directive with { Block = Resolve(block, prefix, depth) });
            }
            else
            {
                resolved.Add(directive);
            }
        }

        return resolved;
    }

    private static List<NginxDirective> Include(NginxDirective include, string prefix, int depth)
    {
        if (include.Arguments.Count != 1)
        {
            throw new NginxConfigException(include.Position, "\"include\" takes one file or pattern");
        }

        if (depth == MaxDepth)
        {
            throw new NginxConfigException(include.Position, $"includes nest deeper than {MaxDepth} files; does a file include itself?");
        }

        var included = new List<NginxDirective>();
        foreach (var file in Files(include, Path.Combine(prefix, include.Arguments[0])))
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new NginxConfigException(include.Position, $"include \"{file}\" cannot be read: {e.Message}");
            }

            included.AddRange(Resolve(NginxConfigReader.Read(text, file), prefix, depth + 1));
        }

        return included;
    }

    /// <summary>The files an include names: the one file, or a pattern's matches in ordinal name order (glob(3) sorts them).</summary>
    private static List<string> Files(NginxDirective include, string path)
    {
        var folder = Path.GetDirectoryName(path) ?? ".";
        var name = Path.GetFileName(path);
        if (folder.AsSpan().IndexOfAny("*?[") >= 0 || name.Contains('[', StringComparison.Ordinal))
        {
            throw new NginxConfigException(include.Position,
                $"include \"{include.Arguments[0]}\": patterns are read in the file name only, with * and ?");
        }

        if (name.AsSpan().IndexOfAny("*?") < 0)
        {
            if (!File.Exists(path) && name == "mime.types")
            {
                // Its types block needs nothing carried over (the framework's extension map gives Content-Type), and
                // the importer often runs where nginx is not installed.
                return [];
            }

            if (!File.Exists(path))
            {
                throw new NginxConfigException(include.Position, $"include \"{path}\" does not exist");
            }

            return [path];
        }

        if (!Directory.Exists(folder))
        {
            return [];
        }

        // glob(3) does not let a wildcard match a leading dot: conf.d/*.conf skips .hidden.conf.
        var options = new EnumerationOptions { MatchType = MatchType.Simple, MatchCasing = MatchCasing.CaseSensitive, AttributesToSkip = 0 };
        var matches = new List<string>();
        foreach (var match in Directory.EnumerateFiles(folder, name, options))
        {
            if (name[0] == '.' || Path.GetFileName(match)[0] != '.')
            {
                matches.Add(match);
            }
        }

        matches.Sort(StringComparer.Ordinal);
        return matches;
    }
}
