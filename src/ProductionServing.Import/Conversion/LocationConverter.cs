using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>
/// Converts a <c>location</c> block: its <c>Match</c>, its handler (<c>Return</c>, <c>Proxy</c> or <c>App</c>,
/// otherwise <c>Static</c> from the root in force, as nginx serves files from any location without another
/// handler), its directives, and its nested locations, which become locations of their own.
/// </summary>
internal static class LocationConverter
{
    /// <summary>The location's own directives this converter reads; the rest are inherited or left out.</summary>
    private static readonly HashSet<string> Own = new(StringComparer.Ordinal)
    {
        "location", "alias", "try_files", "internal", "return", "proxy_pass",
    };

    /// <summary>A parsed <c>location</c> line: its modifier ("" for a plain prefix) and pattern.</summary>
    internal readonly record struct Pattern(string Modifier, string Text)
    {
        public bool IsRegex => Modifier is "~" or "~*";

        public string Match => Modifier.Length == 0 ? Text : Modifier + " " + Text;
    }

    /// <summary>Whether a location is the plain prefix <c>/</c> (or <c>^~ /</c>), which every path matches.</summary>
    public static bool IsRootPrefix(NginxDirective location) =>
        TryPattern(location, out var pattern) && pattern.Modifier is "" or "^~" && pattern.Text == "/";

    /// <summary>Converts a location and its nested locations into <paramref name="locations"/>.</summary>
    public static void Convert(NginxDirective location, Scope parent, Pattern? outer, JsonArray locations, ImportContext context)
    {
        var block = location.Block!;
        if (location.Arguments is [var name] && name.StartsWith('@'))
        {
            ConvertNamed(location, context);
            return;
        }

        if (!TryPattern(location, out var pattern) || pattern.Text.Length == 0 || !pattern.IsRegex && !pattern.Text.StartsWith('/'))
        {
            context.Leave(location, "not carried over: a location here is [=|^~] /path or ~ / ~* with a regex");
            return;
        }

        if (outer is { } around && !TryNest(around, ref pattern, out var problem))
        {
            context.Leave(location, problem);
            return;
        }

        var captures = 0;
        if (pattern.IsRegex && !TryCaptures(pattern, out captures))
        {
            context.Leave(location, "its regex is not one .NET can compile; write it in the common PCRE/.NET syntax");
            return;
        }

        var scope = parent.Enter(block);
        var converted = new JsonObject { ["Match"] = pattern.Match };
        if (Has(block, "internal"))
        {
            converted["Internal"] = true;
        }

        if (Handler(location, pattern, scope, captures, converted, context))
        {
            LocationDirectives.Add(converted, scope, handlerIsStatic: converted.ContainsKey("Static"), captures, location, context);
            if (outer is { } parentPattern && pattern.IsRegex)
            {
                // Placed, and given its parent's prefix, once every location is known (NestedRegexes).
                context.NestedRegexes.Add(new NestedRegex(converted, parentPattern, pattern, location));
            }
            else
            {
                locations.Add(converted);
                if (outer is null && !pattern.IsRegex && pattern.Modifier != "=")
                {
                    context.TopPrefixes.Add((pattern.Text, converted));
                }
            }
        }

        foreach (var directive in block)
        {
            if (directive.Name == "location" && directive.Block is not null)
            {
                Convert(directive, scope, pattern, locations, context);
            }
            else if (!Own.Contains(directive.Name) && Array.IndexOf(DirectiveTable.ForeignHandlers, directive.Name) < 0)
            {
                NginxImporter.LeaveUnlessKnown(directive, context);
            }
        }
    }

    /// <summary>
    /// The <c>location /</c> nginx does not need: a request no location matches is served from the server's root,
    /// where the library would give it to the app.
    /// </summary>
    public static void ConvertServerFallback(NginxDirective server, Scope scope, JsonArray locations, ImportContext context)
    {
        var fallback = new JsonObject { ["Match"] = "/" };
        fallback["Static"] = Static(server, scope, own: [], context);
        LocationDirectives.Add(fallback, scope, handlerIsStatic: true, captures: 0, server, context);
        locations.Add(fallback);
    }

    /// <summary>Sets the location's handler; false when the location is left out as a whole.</summary>
    private static bool Handler(NginxDirective location, Pattern pattern, Scope scope, int captures, JsonObject converted, ImportContext context)
    {
        var block = location.Block!;
        if (Find(block, "return") is { } answer)
        {
            // nginx's return runs in the rewrite phase, before any content handler of the location.
            if (LocationDirectives.Return(answer, scope, captures, context) is not { } answerObject)
            {
                return false;
            }

            converted["Return"] = answerObject;
            return true;
        }

        if (ConditionalHandler(block) is { } conditional)
        {
            // A handler inside "if" (or limit_except) decides per request in nginx; without it the location would
            // serve its paths as files (a script's source), so it answers 502 instead.
            context.Leave(conditional, $"{conditional.Name} inside an if or limit_except block is not carried over (no scripting); the location answers 502 so that its paths are not served as files");
            converted["Return"] = new JsonObject { ["Status"] = 502 };
            return true;
        }

        foreach (var name in DirectiveTable.ForeignHandlers)
        {
            if (Find(block, name) is { } foreign)
            {
                // Keeping the location, answering 502 (what nginx answers when that backend is gone), keeps its
                // paths from falling to another location that would serve them, PHP sources for one, as files.
                context.Leave(foreign, DirectiveTable.Reason(name) + "; the location answers 502 so that no other location serves its paths");
                converted["Return"] = new JsonObject { ["Status"] = 502 };
                return true;
            }
        }

        if (Find(block, "proxy_pass") is { } pass)
        {
            return ProxyConverter.Convert(pass, scope, captures, converted, context);
        }

        if (Find(block, "alias") is { } alias && pattern.IsRegex)
        {
            context.Leave(alias, "alias on a regex location (with captures) is not built; use a prefix location, or root");
            converted["Return"] = new JsonObject { ["Status"] = 404 };
            return true;
        }

        var files = Static(location, scope, block, context);
        if (!pattern.IsRegex && pattern.Text.Contains("/.", StringComparison.Ordinal))
        {
            // A location for a dot-folder (/.well-known/acme-challenge/) names its files on purpose; the library
            // refuses hidden files elsewhere by default, as nginx configs do with location ~ /\. { deny all; }.
            files["AllowHiddenFiles"] = true;
        }

        converted["Static"] = files;
        return true;
    }

    private static JsonObject Static(NginxDirective location, Scope scope, IReadOnlyList<NginxDirective> own, ImportContext context)
    {
        var result = new JsonObject();
        if (Find(own, "alias") is { Arguments.Count: 1 } alias)
        {
            result["Alias"] = alias.Arguments[0];
            LeaveIfRelative(alias, context);
        }
        else if (scope.Get("root") is { Arguments.Count: 1 } root)
        {
            result["Root"] = root.Arguments[0];
            LeaveIfRelative(root, context);
        }
        else
        {
            result["Root"] = "html";
            context.Add(new Leftover(location.Position, Leftover.Describe(location),
                "no root in force: nginx serves its default 'html' under its prefix; set Root to that folder"));
        }

        if (scope.Get("index") is { } index && Index(index, context) is { } files)
        {
            result["Index"] = files;
        }

        if (scope.IsOn("autoindex"))
        {
            result["AutoIndex"] = true;
        }

        if (Find(own, "try_files") is { } tryFiles && TryFiles(tryFiles, context) is { } entries)
        {
            result["TryFiles"] = entries;
        }

        if (scope.Value("default_type") is { } type && type != "application/octet-stream")
        {
            result["DefaultContentType"] = type;
        }

        if (!scope.IsOn("gzip_static"))
        {
            // nginx sends x.gz beside x only with gzip_static on; the library does by default.
            result["Precompressed"] = false;
        }

        if (LocationDirectives.Expires(scope, context) is { } cacheControl)
        {
            result["CacheControl"] = cacheControl;
        }

        return result;
    }

    private static void LeaveIfRelative(NginxDirective directive, ImportContext context)
    {
        var path = directive.Arguments[0];
        if (!path.StartsWith('/'))
        {
            context.Leave(directive, $"'{path}' is relative to nginx's prefix there and to the app's content root here; check the folder");
        }
        else if (path.Contains('$', StringComparison.Ordinal))
        {
            context.Leave(directive, "variables in root or alias are not built; name the folder");
        }
    }

    private static JsonArray? Index(NginxDirective index, ImportContext context)
    {
        var files = new JsonArray();
        foreach (var file in index.Arguments)
        {
            if (file.Length == 0 || file.Contains('$', StringComparison.Ordinal) || file.StartsWith('/'))
            {
                context.Leave(index, $"the index file '{file}' is left out: index files here are names within the folder, without variables");
            }
            else
            {
                files.Add(file);
            }
        }

        return files.Count == 1 && (string?)files[0] == "index.html" ? null : files;
    }

    private static JsonArray? TryFiles(NginxDirective tryFiles, ImportContext context)
    {
        var entries = new JsonArray();
        var arguments = tryFiles.Arguments;
        for (var i = 0; i < arguments.Count; i++)
        {
            var entry = arguments[i].Replace("$query_string", "$args", StringComparison.Ordinal).Replace("$document_uri", "$uri", StringComparison.Ordinal);
            var last = i == arguments.Count - 1;
            if (entry.Length == 0 || arguments.Count < 2 || entry[0] == '=' && (!last || entry.Length != 4 || !int.TryParse(entry.AsSpan(1), out _)))
            {
                context.Leave(tryFiles, "not a try_files the library reads: candidates, then a last =CODE, @name or path");
                return null;
            }

            if (last && entry.StartsWith('@'))
            {
                if (!IsAppLocation(entry, context))
                {
                    context.Leave(tryFiles, $"the fallback {entry} is not carried over: the only named location here is @app, the app itself (name the app's upstream with --app); the location answers 404 where nginx would go to {entry}");
                    entry = "=404";
                }
                else
                {
                    entry = "@app";
                }
            }

            var allowed = last ? entry.Replace("$uri", "", StringComparison.Ordinal).Replace("$is_args", "", StringComparison.Ordinal).Replace("$args", "", StringComparison.Ordinal)
                : entry.Replace("$uri", "", StringComparison.Ordinal);
            if (allowed.Contains('$', StringComparison.Ordinal) || !(entry.StartsWith('/') || entry.StartsWith("$uri", StringComparison.Ordinal) || last && entry[0] is '=' or '@'))
            {
                context.Leave(tryFiles, $"the entry '{arguments[i]}' is not carried over: entries here are $uri, $uri/, paths from '/', and a last =CODE, @app or path (with $args)");
                return null;
            }

            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>Whether a named location forwards to the app itself, which <c>@app</c> is here.</summary>
    private static bool IsAppLocation(string name, ImportContext context) =>
        context.Named.TryGetValue(name, out var named)
        && Find(named.Block!, "proxy_pass") is { Arguments.Count: 1 } pass
        && Uri.TryCreate(pass.Arguments[0], UriKind.Absolute, out var target)
        && context.IsApp(target);

    /// <summary>A named location is carried over only as <c>@app</c>, when it forwards to the app.</summary>
    private static void ConvertNamed(NginxDirective location, ImportContext context)
    {
        if (!IsAppLocation(location.Arguments[0], context))
        {
            context.Leave(location, "named locations are reached only from try_files here, and the only one is @app, the app itself (name the app's upstream with --app)");
            return;
        }

        foreach (var directive in location.Block!)
        {
            if (!directive.Name.StartsWith("proxy_", StringComparison.Ordinal) && !DirectiveTable.IsQuiet(directive.Name))
            {
                context.Leave(directive, "@app runs the app under the directives of the location that falls back to it; the named location's own are not carried over");
            }
        }
    }

    /// <summary>
    /// Whether a nested location can be a location of its own: a nested prefix is already a full path in nginx; a
    /// nested regex is placed by <see cref="NestedRegexes"/>. Nothing nests in a regex or exact location.
    /// </summary>
    private static bool TryNest(Pattern outer, ref Pattern inner, out string problem)
    {
        problem = "";
        if (outer.IsRegex || outer.Modifier == "=")
        {
            problem = "a location nested in a regex or exact location is not carried over; write it as a location of its own";
            return false;
        }

        return true;
    }

    private static bool TryCaptures(Pattern pattern, out int captures)
    {
        try
        {
            captures = new Regex(pattern.Text, RegexOptions.CultureInvariant).GetGroupNumbers().Length - 1;
            return true;
        }
        catch (ArgumentException)
        {
            captures = 0;
            return false;
        }
    }

    /// <summary>Reads nginx's <c>location</c> arguments: a modifier word and a pattern, or the two joined.</summary>
    internal static bool TryPattern(NginxDirective location, out Pattern pattern)
    {
        pattern = default;
        switch (location.Arguments)
        {
            case [var modifier, var text] when modifier is "=" or "^~" or "~" or "~*":
                pattern = new Pattern(modifier, text);
                return true;
            case [var joined] when joined.Length > 0 && !joined.StartsWith('@'):
                foreach (var modifier in (string[])["^~", "~*", "=", "~"])
                {
                    if (joined.Length > modifier.Length && joined.StartsWith(modifier, StringComparison.Ordinal))
                    {
                        pattern = new Pattern(modifier, joined[modifier.Length..]);
                        return true;
                    }
                }

                pattern = new Pattern("", joined);
                return true;
            default:
                return false;
        }
    }

    /// <summary>A content handler (<c>proxy_pass</c>, <c>fastcgi_pass</c>…) inside an <c>if</c> or <c>limit_except</c> block of a location.</summary>
    private static NginxDirective? ConditionalHandler(IReadOnlyList<NginxDirective> block)
    {
        foreach (var directive in block)
        {
            if (directive is { Name: "if" or "limit_except", Block: { } inner })
            {
                foreach (var candidate in inner)
                {
                    if (candidate.Name == "proxy_pass" || Array.IndexOf(DirectiveTable.ForeignHandlers, candidate.Name) >= 0)
                    {
                        return candidate;
                    }
                }

                if (ConditionalHandler(inner) is { } deeper)
                {
                    return deeper;
                }
            }
        }

        return null;
    }

    internal static NginxDirective? Find(IReadOnlyList<NginxDirective> block, string name)
    {
        foreach (var directive in block)
        {
            if (directive.Name == name && directive.Block is null)
            {
                return directive;
            }
        }

        return null;
    }

    private static bool Has(IReadOnlyList<NginxDirective> block, string name) => Find(block, name) is not null;
}
