namespace ProductionServing.Import.NginxConfig;

/// <summary>
/// The <c>server {}</c> block the importer converts, with what it inherits and what it leaves out. nginx serves
/// several virtual servers from one configuration; one app is one server here, so one block is converted: the
/// one named with <c>--server NAME</c> (any of its <c>server_name</c>s), otherwise the one with the most
/// <c>location</c>s (the first of equals), and the others are reported as not carried over.
/// </summary>
/// <param name="Server">The block converted.</param>
/// <param name="Http">The directives of the <c>http {}</c> block around it (<c>upstream</c>, <c>limit_req_zone</c>,
/// and what its locations inherit: <c>add_header</c>, <c>gzip</c>, <c>client_max_body_size</c>…); for a file of
/// <c>server</c> blocks, its top-level directives.</param>
/// <param name="Others">The other <c>server</c> blocks, not carried over.</param>
internal sealed record ChosenServer(NginxDirective Server, IReadOnlyList<NginxDirective> Http, IReadOnlyList<NginxDirective> Others)
{
    /// <summary>Chooses the block from a configuration's top-level directives.</summary>
    /// <param name="top">The file's directives, includes resolved.</param>
    /// <param name="file">The file, for the message when it has no server block.</param>
    /// <param name="name">A <c>server_name</c> to choose by; null for the block with the most locations.</param>
    /// <exception cref="NginxConfigException">There is no server block, or none named <paramref name="name"/>.</exception>
    public static ChosenServer Choose(IReadOnlyList<NginxDirective> top, string file, string? name)
    {
        ArgumentNullException.ThrowIfNull(top);
        var http = Find(top, "http");
        var level = http?.Block ?? top;
        var servers = new List<NginxDirective>();
        foreach (var directive in level)
        {
            if (directive.Name == "server" && directive.Block is not null)
            {
                servers.Add(directive);
            }
        }

        if (servers.Count == 0)
        {
            throw new NginxConfigException(http?.Position ?? new SourcePosition(file, 1, 1),
                http is null ? "has no http or server block to convert" : "its http block has no server block to convert");
        }

        var chosen = name is null ? MostLocations(servers) : Named(servers, name, file);
        var others = servers.FindAll(server => !ReferenceEquals(server, chosen));
        // A file of server blocks is included in an http block by nginx.conf: its other top-level directives
        // (upstream, limit_req_zone, gzip, add_header…) are http-level ones.
        return new ChosenServer(chosen, http?.Block ?? top, others);
    }

    /// <summary>The <c>server_name</c>s of a server block, in order.</summary>
    public static IReadOnlyList<string> Names(NginxDirective server)
    {
        var names = new List<string>();
        foreach (var directive in server.Block!)
        {
            if (directive.Name == "server_name")
            {
                names.AddRange(directive.Arguments);
            }
        }

        return names;
    }

    private static NginxDirective Named(List<NginxDirective> servers, string name, string file)
    {
        foreach (var server in servers)
        {
            if (Names(server).Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                return server;
            }
        }

        var known = new List<string>();
        foreach (var server in servers)
        {
            known.Add(Names(server) is { Count: > 0 } names ? string.Join(' ', names) : $"(no server_name, line {server.Position.Line})");
        }

        throw new NginxConfigException(new SourcePosition(file, 1, 1),
            $"no server block has server_name {name}; the server blocks are: {string.Join("; ", known)}");
    }

    private static NginxDirective MostLocations(List<NginxDirective> servers)
    {
        var chosen = servers[0];
        var most = Locations(chosen.Block!);
        for (var i = 1; i < servers.Count; i++)
        {
            var count = Locations(servers[i].Block!);
            if (count > most)
            {
                (chosen, most) = (servers[i], count);
            }
        }

        return chosen;
    }

    /// <summary>The locations of a block, nested ones included.</summary>
    private static int Locations(IReadOnlyList<NginxDirective> block)
    {
        var count = 0;
        foreach (var directive in block)
        {
            if (directive.Block is { } inner)
            {
                count += (directive.Name == "location" ? 1 : 0) + Locations(inner);
            }
        }

        return count;
    }

    private static NginxDirective? Find(IReadOnlyList<NginxDirective> directives, string name)
    {
        foreach (var directive in directives)
        {
            if (directive.Name == name && directive.Block is not null)
            {
                return directive;
            }
        }

        return null;
    }
}
