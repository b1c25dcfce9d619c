using System.Text.Json.Nodes;
using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>
/// nginx's <c>proxy_pass</c> as <c>Proxy</c> (with <c>proxy_set_header</c> and <c>proxy_redirect</c>), or as
/// <c>App</c> when it forwards to the app itself (<c>--app</c>), which now runs in-process.
/// </summary>
internal static class ProxyConverter
{
    /// <summary>Forwarding settings nginx sets per location and the library per upstream group.</summary>
    public static readonly string[] UpstreamLevel = ["proxy_connect_timeout", "proxy_read_timeout", "proxy_next_upstream_tries"];

    /// <summary>Request headers the library already sends as nginx's usual settings ask.</summary>
    private static readonly Dictionary<string, string[]> Standard = new(StringComparer.OrdinalIgnoreCase)
    {
        // X-Forwarded-For is appended, -Proto and -Host set, on every forwarded request (docs/proxy.md, Headers).
        // ($remote_addr alone replaces what the client sent: that one is carried over as SetHeaders.)
        ["X-Forwarded-For"] = ["$proxy_add_x_forwarded_for"],
        ["X-Forwarded-Proto"] = ["$scheme"],
        ["X-Forwarded-Host"] = ["$host", "$http_host"],
        // Hop-by-hop: upstream connections are pooled and upgrades tunnelled, whatever these say.
        ["Connection"] = [],
        ["Upgrade"] = [],
        ["Keep-Alive"] = [],
        ["Proxy-Connection"] = [],
        ["TE"] = [],
    };

    /// <summary>Sets the location's Proxy or App; false when the location is left out (reported).</summary>
    public static bool Convert(NginxDirective pass, Scope scope, int captures, JsonObject location, ImportContext context)
    {
        if (pass.Arguments.Count != 1 || pass.Arguments[0].Contains('$', StringComparison.Ordinal)
            || !Uri.TryCreate(pass.Arguments[0], UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
        {
            // Keep the location, answering 502, so that its paths do not fall to another location.
            context.Leave(pass, "only proxy_pass http(s)://host[:port][/path] without variables carries over; the location answers 502");
            location["Return"] = new JsonObject { ["Status"] = 502 };
            return true;
        }

        if (context.IsApp(target))
        {
            if (HasPath(pass.Arguments[0]))
            {
                context.Leave(pass, "the app sees the request's own path here; nginx replaced the location's prefix with the proxy_pass path");
            }

            location["App"] = new JsonObject();
            return true;
        }

        var proxy = new JsonObject { ["Pass"] = pass.Arguments[0] };
        if (context.UpstreamBlocks.ContainsKey(target.Host))
        {
            if (!context.UsedUpstreams.TryAdd(target.Host, target.Scheme) && context.UsedUpstreams[target.Host] != target.Scheme)
            {
                context.Leave(pass, $"the upstream {target.Host} is reached over {context.UsedUpstreams[target.Host]} by an earlier location: one scheme per upstream group here");
            }

            Remember(target.Host, scope, pass, context);
        }
        else
        {
            foreach (var name in UpstreamLevel)
            {
                if (scope.Get(name) is { } setting)
                {
                    context.Leave(setting, "forwarding timeouts and tries are set on an upstream group here (Upstreams.<name>); forward to an upstream block to carry it over");
                }
            }
        }

        SetHeaders(scope, captures, proxy, context);
        if (scope.Get("proxy_redirect") is { } redirect)
        {
            if (redirect.Arguments is ["off"])
            {
                proxy["RewriteRedirects"] = false;
            }
            else if (redirect.Arguments is not ["default"])
            {
                context.Leave(redirect, "only proxy_redirect default (RewriteRedirects, on by default) and off carry over");
            }
        }

        location["Proxy"] = proxy;
        return true;
    }

    private static void SetHeaders(Scope scope, int captures, JsonObject proxy, ImportContext context)
    {
        var headers = new JsonObject();
        foreach (var directive in scope.List("proxy_set_header"))
        {
            if (directive.Arguments.Count != 2)
            {
                context.Leave(directive, "not a proxy_set_header nginx accepts: proxy_set_header NAME VALUE");
                continue;
            }

            var (name, value) = (directive.Arguments[0], directive.Arguments[1]);
            if (Standard.TryGetValue(name, out var usual) && (usual.Length == 0 || Array.IndexOf(usual, value) >= 0))
            {
                continue;
            }

            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                if (value == "$http_host")
                {
                    proxy["PreserveHost"] = true;
                    continue;
                }

                if (value == "$proxy_host")
                {
                    continue;
                }
            }

            if (LocationDirectives.Template(directive, value, captures, context, out var template))
            {
                headers[name] = template;
            }
        }

        if (headers.Count > 0)
        {
            proxy["SetHeaders"] = headers;
        }
    }

    /// <summary>Whether a proxy_pass URL has a path part, even just '/' (nginx's URI rules: then the prefix is replaced).</summary>
    private static bool HasPath(string url) => url.IndexOf('/', url.IndexOf("://", StringComparison.Ordinal) + 3) >= 0;

    /// <summary>
    /// Remembers the first location forwarding to an upstream, whose timeouts and tries become the group's; a later
    /// location that differs (a value not set there is nginx's default) is reported.
    /// </summary>
    private static void Remember(string upstream, Scope scope, NginxDirective pass, ImportContext context)
    {
        if (!context.UpstreamSettings.TryGetValue(upstream, out var first))
        {
            context.UpstreamSettings[upstream] = (pass, scope);
            return;
        }

        foreach (var name in UpstreamLevel)
        {
            var (setting, group) = (scope.Get(name), first.Scope.Get(name));
            if (!string.Equals(Text(group), Text(setting), StringComparison.Ordinal))
            {
                var where = setting ?? pass;
                context.Add(new Leftover(where.Position, Leftover.Describe(where),
                    $"{name} is {Text(setting) ?? "nginx's default"} here and {Text(group) ?? "nginx's default"} in the first location forwarding to {upstream} (line {first.Pass.Position.Line}): one value per upstream group, the first location's"));
            }
        }
    }

    private static string? Text(NginxDirective? setting) => setting is null ? null : string.Join(' ', setting.Arguments);
}
