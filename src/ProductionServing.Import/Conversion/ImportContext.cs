using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>What the converters of one import share: the http block's definitions and what was left out.</summary>
internal sealed class ImportContext(ImportSettings settings)
{
    /// <summary>The importer's choices.</summary>
    public ImportSettings Settings { get; } = settings;

    /// <summary>What was not carried over.</summary>
    public List<Leftover> Leftovers { get; } = [];

    /// <summary>The http block's <c>upstream</c> blocks by name.</summary>
    public Dictionary<string, NginxDirective> UpstreamBlocks { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The upstreams the converted locations forward to, in order of first use, with the scheme they use.</summary>
    public Dictionary<string, string> UsedUpstreams { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Per used upstream, the first location forwarding to it: its proxy_pass and what is in force there. nginx sets
    /// timeouts and tries per location, the library per group: that location's are the group's.
    /// </summary>
    public Dictionary<string, (NginxDirective Pass, Scope Scope)> UpstreamSettings { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The http block's <c>limit_req_zone</c>s by zone name.</summary>
    public Dictionary<string, NginxDirective> Zones { get; } = new(StringComparer.Ordinal);

    /// <summary>The locations each zone's <c>limit_req</c> is used by.</summary>
    public Dictionary<string, List<NginxDirective>> ZoneUses { get; } = new(StringComparer.Ordinal);

    /// <summary>The server's named locations (<c>@name</c>), by name with its '@'.</summary>
    public Dictionary<string, NginxDirective> Named { get; } = new(StringComparer.Ordinal);

    /// <summary>The regex locations nested in a prefix location, placed once every location is known.</summary>
    public List<NestedRegex> NestedRegexes { get; } = [];

    /// <summary>The server's own prefix locations (not nested), with what they became.</summary>
    public List<(string Prefix, System.Text.Json.Nodes.JsonObject Location)> TopPrefixes { get; } = [];

    /// <summary>Records a leftover, once: an inherited directive is met again in every location it reaches.</summary>
    public void Leave(NginxDirective directive, string reason) => Add(Leftover.Of(directive, reason));

    /// <summary>Records a leftover, once.</summary>
    public void Add(Leftover leftover)
    {
        if (_seen.Add(leftover))
        {
            Leftovers.Add(leftover);
        }
    }

    private readonly HashSet<Leftover> _seen = [];

    /// <summary>
    /// Whether a <c>proxy_pass</c> target is the app itself (<see cref="ImportSettings.App"/>): its upstream name, or
    /// its <c>host:port</c> with or without the scheme.
    /// </summary>
    public bool IsApp(Uri pass)
    {
        var app = Settings.App;
        if (string.IsNullOrEmpty(app))
        {
            return false;
        }

        var bare = app.Contains("://", StringComparison.Ordinal) ? app[(app.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/') : app;
        return string.Equals(pass.Authority, bare, StringComparison.OrdinalIgnoreCase)
            || pass.IsDefaultPort && string.Equals(pass.Host, bare, StringComparison.OrdinalIgnoreCase);
    }
}
