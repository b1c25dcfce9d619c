using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ProductionServing.Import.Conversion;

/// <summary>
/// Places the regex locations nested in prefix locations among flat ones. nginx tries a prefix location's nested
/// regexes when that prefix is the longest match, before every regex of the server, and even under <c>^~</c>
/// (which only stops the server's own regexes). So each becomes a regex tried before the server's, that matches
/// only under its parent's prefix and not under a longer prefix of the server's; a <c>^~</c> parent with nested
/// regexes becomes a plain prefix, and the server's regexes get a lookahead that keeps them out from under it.
/// </summary>
internal static class NestedRegexes
{
    public static void Place(JsonArray locations, ImportContext context)
    {
        if (context.NestedRegexes.Count == 0)
        {
            return;
        }

        var firstRegex = locations.Count;
        for (var i = 0; i < locations.Count; i++)
        {
            if (((string?)locations[i]!["Match"])!.StartsWith('~'))
            {
                firstRegex = i;
                break;
            }
        }

        var shielded = new List<string>();
        foreach (var nested in context.NestedRegexes)
        {
            var parent = nested.Parent.Text;
            var longer = new List<string>();
            foreach (var (prefix, converted) in context.TopPrefixes)
            {
                if (prefix.Length > parent.Length && prefix.StartsWith(parent, StringComparison.Ordinal))
                {
                    longer.Add(Literal(prefix));
                }
                else if (prefix == parent && nested.Parent.Modifier == "^~" && !shielded.Contains(parent))
                {
                    converted["Match"] = parent;
                    shielded.Add(parent);
                }
            }

            // (?-i:) keeps prefixes case-sensitive, as nginx compares them, inside a ~* regex; lookaheads and
            // non-capturing groups leave the regex's own captures ($1...) where they were.
            var outside = longer.Count == 0 ? "" : $"(?!{string.Join('|', longer)})";
            nested.Location["Match"] = $"{nested.Pattern.Modifier} ^(?={Literal(parent)}){outside}[\\s\\S]*?(?:{nested.Pattern.Text})";
        }

        for (var i = firstRegex; i < locations.Count; i++)
        {
            var match = (string)locations[i]!["Match"]!;
            if (shielded.Count > 0 && match.StartsWith('~'))
            {
                var space = match.IndexOf(' ', StringComparison.Ordinal);
                locations[i]!["Match"] = $"{match[..space]} ^(?!{string.Join('|', shielded.ConvertAll(Literal))})[\\s\\S]*?(?:{match[(space + 1)..]})";
            }
        }

        for (var i = context.NestedRegexes.Count - 1; i >= 0; i--)
        {
            locations.Insert(firstRegex, context.NestedRegexes[i].Location);
        }
    }

    private static string Literal(string prefix) => $"(?-i:{Regex.Escape(prefix)})";
}
