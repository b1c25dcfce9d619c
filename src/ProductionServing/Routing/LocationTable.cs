using System.Globalization;
using System.Text;
using ProductionServing.Pools;
using ProductionServing.Proxy;
using ProductionServing.Static;

namespace ProductionServing.Routing;

/// <summary>
/// The compiled locations as an operator reads them: the log's table at startup and after each reload,
/// and the status page's list of locations that can never be selected.
/// </summary>
/// <remarks>
/// "Never selected" is reported only where the configuration proves it (see <see cref="RegexShape"/>):
/// a regex that repeats an earlier one, or whose every path an earlier regex matches; a regex that can
/// match only under a <c>^~</c> prefix with no plain prefix below it (where regexes are not tried, so
/// every regex when <c>^~ /</c> exists without plain prefixes); a regex <c>^literal$</c> whose one path
/// an exact location takes; a plain prefix under which a regex matches every path. Duplicate exact and
/// prefix locations are refused at startup, and an exact location cannot cover a prefix (a prefix names
/// endless paths), so exact and <c>^~</c> locations are always selectable. Overlap between two arbitrary
/// regexes is not decided.
/// </remarks>
internal static class LocationTable
{
    /// <summary>For each location, in configuration order, why it can never be selected, or null.</summary>
    public static string?[] NeverSelected(IReadOnlyList<Location> locations)
    {
        var reasons = new string?[locations.Count];
        var shapes = new RegexShape?[locations.Count];
        for (var i = 0; i < locations.Count; i++)
        {
            if (locations[i].Pattern.IsRegex)
            {
                shapes[i] = RegexShape.Of(locations[i].Pattern);
            }
        }

        for (var i = 0; i < locations.Count; i++)
        {
            var pattern = locations[i].Pattern;
            reasons[i] = shapes[i] is { } shape ? RegexReason(locations, shapes, i, shape)
                : pattern.Kind == LocationKind.Prefix ? PrefixReason(locations, shapes, pattern.Pattern)
                : null;
        }

        return reasons;
    }

    private static string? RegexReason(IReadOnlyList<Location> locations, RegexShape?[] shapes, int index, RegexShape shape)
    {
        var pattern = locations[index].Pattern;
        for (var j = 0; j < index; j++)
        {
            if (shapes[j] is not { } earlier)
            {
                continue;
            }

            var other = locations[j].Pattern;
            if (other.Pattern == pattern.Pattern && (other.Kind == pattern.Kind || earlier.CaseInsensitive))
            {
                return $"repeats {Name(locations, j)}, which is tried first";
            }

            if (earlier.Covers is { } covered && shape.OnlyUnder(covered))
            {
                return $"{Name(locations, j)} matches every path this one can match, and is tried first";
            }
        }

        for (var j = 0; j < locations.Count; j++)
        {
            var other = locations[j].Pattern;
            if (shape.Only is { } only && other.Kind == LocationKind.Exact && other.Pattern == only)
            {
                return $"matches only '{only}', which the exact location {Name(locations, j)} takes first";
            }

            if (other.Kind == LocationKind.PrefixNoRegex && shape.OnlyUnder(other.Pattern) && !HasPlainPrefixUnder(locations, other.Pattern))
            {
                return $"can match only paths under {Name(locations, j)}, where regexes are not tried";
            }
        }

        return null;
    }

    private static string? PrefixReason(IReadOnlyList<Location> locations, RegexShape?[] shapes, string prefix)
    {
        for (var j = 0; j < locations.Count; j++)
        {
            if (shapes[j] is { Covers: { } covered } && prefix.StartsWith(covered, StringComparison.Ordinal))
            {
                return $"{Name(locations, j)} matches every path under it, and regexes are tried before the longest prefix wins";
            }
        }

        return null;
    }

    /// <summary>Whether a plain prefix location lies at or under <paramref name="prefix"/>: for its paths, regexes are tried.</summary>
    private static bool HasPlainPrefixUnder(IReadOnlyList<Location> locations, string prefix)
    {
        foreach (var location in locations)
        {
            if (location.Pattern is { Kind: LocationKind.Prefix } plain && plain.Pattern.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string Name(IReadOnlyList<Location> locations, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"Locations[{index}] ('{locations[index].Feature.Match}')");

    /// <summary>The modifier's name: <c>exact</c>, <c>^~ prefix</c>, <c>prefix</c>, <c>regex</c> or <c>regex (case-insensitive)</c>.</summary>
    public static string KindName(LocationKind kind) => kind switch
    {
        LocationKind.Exact => "exact",
        LocationKind.PrefixNoRegex => "^~ prefix",
        LocationKind.Prefix => "prefix",
        LocationKind.Regex => "regex",
        _ => "regex (case-insensitive)",
    };

    /// <summary>What the location's handler serves from: a folder, an upstream group, or a pool.</summary>
    public static string Target(Location location) => location.Handler switch
    {
        StaticHandler files => files.Files.Root,
        ProxyHandler proxy => "upstream " + proxy.Group.Name,
        AppHandler app => app.PoolName is { } pool ? "pool " + pool : "no pool",
        _ => "",
    };

    /// <summary>
    /// The table logged at startup and after each reload: one line per location in configuration order
    /// (index, Match, kind, handler, target, and notes), then where unmatched requests go.
    /// </summary>
    /// <param name="locations">The configured locations, in order.</param>
    /// <param name="unmatched">Where a path no location matches goes.</param>
    /// <param name="statusPath">The status page's path, or null when it is off.</param>
    /// <returns>The table, one line per row, each starting with a line break.</returns>
    public static string Render(IReadOnlyList<Location> locations, Location unmatched, string? statusPath)
    {
        var reasons = NeverSelected(locations);
        var matchWidth = "(no match)".Length;
        foreach (var location in locations)
        {
            matchWidth = Math.Max(matchWidth, location.Feature.Match?.Length ?? 0);
        }

        var table = new StringBuilder();
        if (statusPath is not null)
        {
            table.Append(CultureInfo.InvariantCulture, $"\n  status page  {statusPath}, {statusPath}/status.json, {statusPath}/match (before every location, for Status.Allow)");
        }

        var regexNumber = 0;
        for (var i = 0; i < locations.Count; i++)
        {
            var location = locations[i];
            var kind = KindName(location.Pattern.Kind);
            if (location.Pattern.IsRegex)
            {
                kind = string.Create(CultureInfo.InvariantCulture, $"regex {++regexNumber}{(location.Pattern.Kind == LocationKind.RegexCaseInsensitive ? " (~*)" : "")}");
            }

            table.Append(CultureInfo.InvariantCulture, $"\n  #{i,-3} {location.Feature.Match?.PadRight(matchWidth)}  {kind,-13} {HandlerName(location),-6} {Target(location)}");
            if (location.Internal)
            {
                table.Append("; internal");
            }

            if (reasons[i] is { } reason)
            {
                table.Append("; NEVER SELECTED: ").Append(reason);
            }
        }

        table.Append(CultureInfo.InvariantCulture, $"\n  --   {"(no match)".PadRight(matchWidth)}  {"",-13} {HandlerName(unmatched),-6} {Target(unmatched)}");
        return table.ToString();
    }

    /// <summary>The table as a log field: rendered only when a logger formats it.</summary>
    internal sealed class Text(IReadOnlyList<Location> locations, Location unmatched, string? statusPath)
    {
        public override string ToString() => Render(locations, unmatched, statusPath);
    }

    private static string HandlerName(Location location) => Diagnostics.ServingMetrics.HandlerName(location.Handler.Kind);
}
