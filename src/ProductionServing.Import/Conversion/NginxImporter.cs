using System.Text.Json.Nodes;
using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>
/// Converts one nginx <c>server {}</c> block, with what it inherits from <c>http {}</c>, into the library's
/// <c>ProductionServing</c> section, and lists every directive it could not carry over with where and why.
/// </summary>
internal static class NginxImporter
{
    /// <summary>Imports a configuration's top-level directives (includes resolved).</summary>
    /// <param name="top">The directives of the main file.</param>
    /// <param name="file">The main file, for messages.</param>
    /// <param name="settings">The importer's choices.</param>
    /// <exception cref="NginxConfigException">There is no server block to convert, or none with the name asked for.</exception>
    public static ImportResult Import(IReadOnlyList<NginxDirective> top, string file, ImportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(top);
        ArgumentNullException.ThrowIfNull(settings);
        var chosen = ChosenServer.Choose(top, file, settings.Server);
        var context = new ImportContext(settings);

        if (!ReferenceEquals(chosen.Http, top))
        {
            ReadTopLevel(top, context);
        }

        ReadHttp(chosen.Http, context);
        foreach (var other in chosen.Others)
        {
            var names = ChosenServer.Names(other);
            context.Leave(other, names.Count > 0
                ? $"another virtual server; one app is one server here: convert it on its own with --server {names[0]}"
                : "another virtual server; one app is one server here (give it a server_name to convert it with --server)");
        }

        var serverScope = Scope.Empty.Enter(chosen.Http).Enter(chosen.Server.Block!);
        var locations = new JsonArray();
        ConvertServer(chosen.Server, serverScope, locations, context);
        NestedRegexes.Place(locations, context);

        var section = new JsonObject();
        if (AccessLog(serverScope, context) is { } accessLog)
        {
            section["AccessLog"] = accessLog;
        }

        section["Locations"] = locations;
        if (UpstreamConverter.Convert(context) is { Count: > 0 } upstreams)
        {
            section["Upstreams"] = upstreams;
        }

        RateLimits.ReportSharedZones(context);
        // In the order nginx reads the directives, includes in place.
        var order = new Dictionary<SourcePosition, int>();
        Number(top, order);
        var leftovers = context.Leftovers.OrderBy(leftover => order.GetValueOrDefault(leftover.Position, int.MaxValue)).ToList();
        return new ImportResult(new JsonObject { ["ProductionServing"] = section }, leftovers, ChosenServer.Names(chosen.Server));
    }

    private static void Number(IReadOnlyList<NginxDirective> directives, Dictionary<SourcePosition, int> order)
    {
        foreach (var directive in directives)
        {
            order.TryAdd(directive.Position, order.Count);
            if (directive.Block is { } block)
            {
                Number(block, order);
            }
        }
    }

    /// <summary>The main context: nginx's process settings need nothing; other modules' blocks are not HTTP.</summary>
    private static void ReadTopLevel(IReadOnlyList<NginxDirective> top, ImportContext context)
    {
        foreach (var directive in top)
        {
            if (directive.Name is "http" or "server" || DirectiveTable.IsQuiet(directive.Name))
            {
                continue;
            }

            context.Leave(directive, directive.Name is "stream" or "mail"
                ? "TCP/UDP and mail proxying are not HTTP; the library serves HTTP only"
                : DirectiveTable.Reason(directive.Name));
        }
    }

    /// <summary>The http block's definitions; what it sets for every server comes in through the scope.</summary>
    private static void ReadHttp(IReadOnlyList<NginxDirective> http, ImportContext context)
    {
        foreach (var directive in http)
        {
            switch (directive.Name)
            {
                case "server":
                    break;
                case "upstream" when directive.Block is not null && directive.Arguments.Count == 1:
                    context.UpstreamBlocks[directive.Arguments[0]] = directive;
                    break;
                case "upstream":
                    context.Leave(directive, "not an upstream nginx accepts: upstream NAME { server ...; }");
                    break;
                case "http" or "stream" or "mail":
                    ReadTopLevel([directive], context);
                    break;
                case "limit_req_zone":
                    RateLimits.ReadZone(directive, context);
                    break;
                default:
                    LeaveUnlessKnown(directive, context);
                    break;
            }
        }
    }

    private static void ConvertServer(NginxDirective server, Scope scope, JsonArray locations, ImportContext context)
    {
        var block = server.Block!;
        var hasRoot = false;
        foreach (var directive in block)
        {
            if (directive.Name == "location" && directive.Block is not null && directive.Arguments.Count == 1 && directive.Arguments[0].StartsWith('@'))
            {
                context.Named[directive.Arguments[0]] = directive;
            }

            hasRoot |= directive.Name == "location" && LocationConverter.IsRootPrefix(directive);
        }

        var serverReturn = LocationConverter.Find(block, "return");
        if (serverReturn is not null && LocationDirectives.Return(serverReturn, scope, captures: 0, context) is { } answer)
        {
            // nginx runs a server-level return before it selects a location: it answers every request.
            locations.Add(new JsonObject { ["Match"] = "/", ["Return"] = answer });
        }
        else
        {
            // Not carried over (reported): the locations are converted as they are.
            serverReturn = null;
        }

        foreach (var directive in block)
        {
            switch (directive.Name)
            {
                case "location" when directive.Block is not null && serverReturn is not null:
                    context.Leave(directive, "never reached in nginx: the server's return answers every request first");
                    break;
                case "location" when directive.Block is not null:
                    LocationConverter.Convert(directive, scope, outer: null, locations, context);
                    break;
                case "try_files":
                    context.Leave(directive, "a server-level try_files applies only where no location matches; put it in a location /");
                    break;
                case "location" or "return":
                    break;
                default:
                    LeaveUnlessKnown(directive, context);
                    break;
            }
        }

        if (!hasRoot && serverReturn is null && scope.Get("root") is not null)
        {
            // A request no location matches is served from the server's root in nginx (the library would hand it
            // to the app): a location / keeps that.
            LocationConverter.ConvertServerFallback(server, scope, locations, context);
        }
    }

    /// <summary>Leaves a directive unless it is inherited (the scope carries it) or needs nothing.</summary>
    internal static void LeaveUnlessKnown(NginxDirective directive, ImportContext context)
    {
        if (directive.Block is null && Array.IndexOf(Scope.Single, directive.Name) >= 0 || IsListed(directive.Name) || DirectiveTable.IsQuiet(directive.Name))
        {
            return;
        }

        context.Leave(directive, DirectiveTable.Reason(directive.Name));
    }

    private static bool IsListed(string name)
    {
        foreach (var names in Scope.Lists)
        {
            if (Array.IndexOf(names, name) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The server's <c>access_log</c> as the top-level <c>AccessLog</c>: a file in nginx's <c>combined</c> format
    /// (the library adds its timings after it). nginx logs by default; the library does not, so only a configured
    /// log is carried over.
    /// </summary>
    private static JsonObject? AccessLog(Scope scope, ImportContext context)
    {
        if (scope.Get("access_log") is not { Arguments.Count: > 0 } directive || directive.Arguments[0] == "off")
        {
            return null;
        }

        var path = directive.Arguments[0];
        if (path.StartsWith("syslog:", StringComparison.Ordinal))
        {
            context.Leave(directive, "syslog is not built; the log goes to ILogger (category ProductionServing.AccessLog) or a file");
            return null;
        }

        if (directive.Arguments.Count > 1 && directive.Arguments[1] != "combined")
        {
            context.Leave(directive, $"the format '{directive.Arguments[1]}' is not carried over; the log is nginx's combined plus timings (or \"Format\": \"json\")");
        }

        return new JsonObject { ["Path"] = path };
    }
}
