using System.Globalization;
using System.Text.RegularExpressions;

namespace ProductionServing.Soak;

/// <summary>
/// What the host logged (at Warning and above, its minimum), counted by level and event from the
/// console logger's header lines (<c>warn: Category[EventId]</c>). An Error or Critical entry fails the
/// soak; warnings are listed, since the overloaded pool's are asked for.
/// </summary>
internal sealed partial class HostLog
{
    private readonly SortedDictionary<string, int> _entries = new(StringComparer.Ordinal);

    public int Failures { get; private set; }

    public static HostLog Read(string path)
    {
        var log = new HostLog();
        foreach (var line in File.Exists(path) ? File.ReadLines(path) : [])
        {
            if (Header().Match(line) is { Success: true } match)
            {
                var key = match.Groups["level"].Value + " " + match.Groups["category"].Value + "[" + match.Groups["id"].Value + "]";
                log._entries[key] = log._entries.GetValueOrDefault(key) + 1;
                if (match.Groups["level"].Value is "fail" or "crit")
                {
                    log.Failures++;
                }
            }
        }

        return log;
    }

    public string Describe() => _entries.Count == 0
        ? "no warnings or errors"
        : string.Join(", ", _entries.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Value:N0} × {e.Key}")));

    [GeneratedRegex(@"^(?<level>warn|fail|crit): (?<category>[^\[]+)\[(?<id>\d+)\]")]
    private static partial Regex Header();
}
