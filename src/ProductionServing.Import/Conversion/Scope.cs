using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>
/// What a level of the configuration (http, server, location, nested location) has in force, with nginx's
/// inheritance rules: a directive set at a level replaces the one above it, and the directives nginx keeps as
/// lists (<c>add_header</c>, <c>proxy_set_header</c>, <c>allow</c>/<c>deny</c>, <c>limit_req</c>) are inherited
/// only by a level that has none of its own; one <c>add_header</c> in a location drops every one from the server.
/// </summary>
internal sealed record Scope
{
    /// <summary>Directives inherited one by one: the innermost wins.</summary>
    public static readonly string[] Single =
    [
        "root", "index", "autoindex", "default_type", "expires", "client_max_body_size", "gzip", "gzip_types",
        "gzip_min_length", "gzip_static", "access_log", "proxy_connect_timeout", "proxy_read_timeout",
        "proxy_next_upstream_tries", "proxy_redirect", "limit_req_status",
    ];

    /// <summary>Directives inherited as a list, and only by a level with none of its own.</summary>
    public static readonly string[][] Lists = [["add_header"], ["proxy_set_header"], ["allow", "deny"], ["limit_req"]];

    private Dictionary<string, NginxDirective> _single = new(StringComparer.Ordinal);
    private Dictionary<string, IReadOnlyList<NginxDirective>> _lists = new(StringComparer.Ordinal);

    /// <summary>The nothing-set scope above <c>http</c>.</summary>
    public static Scope Empty { get; } = new();

    /// <summary>The scope of a block inside this one.</summary>
    public Scope Enter(IReadOnlyList<NginxDirective> block)
    {
        var inner = new Scope
        {
            _single = new Dictionary<string, NginxDirective>(_single, StringComparer.Ordinal),
            _lists = new Dictionary<string, IReadOnlyList<NginxDirective>>(_lists, StringComparer.Ordinal),
        };
        foreach (var directive in block)
        {
            if (directive.Block is null && Array.IndexOf(Single, directive.Name) >= 0)
            {
                inner._single[directive.Name] = directive;
            }
        }

        foreach (var names in Lists)
        {
            var own = new List<NginxDirective>();
            foreach (var directive in block)
            {
                if (directive.Block is null && Array.IndexOf(names, directive.Name) >= 0)
                {
                    own.Add(directive);
                }
            }

            if (own.Count > 0)
            {
                inner._lists[names[0]] = own;
            }
        }

        return inner;
    }

    /// <summary>The directive in force; null when no level sets it.</summary>
    public NginxDirective? Get(string name) => _single.GetValueOrDefault(name);

    /// <summary>The first argument of the directive in force; null when no level sets it.</summary>
    public string? Value(string name) => Get(name) is { Arguments.Count: > 0 } directive ? directive.Arguments[0] : null;

    /// <summary>A list in force (by the name of its first directive: <c>allow</c> for allow and deny).</summary>
    public IReadOnlyList<NginxDirective> List(string name) => _lists.GetValueOrDefault(name) ?? [];

    /// <summary>Whether a directive in force is "on".</summary>
    public bool IsOn(string name) => string.Equals(Value(name), "on", StringComparison.Ordinal);
}
