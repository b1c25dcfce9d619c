using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace ProductionServing.Routing;

/// <summary>
/// Selects the location for a normalized request path with nginx's rules
/// (https://nginx.org/en/docs/http/ngx_http_core_module.html#location): an exact match wins at once;
/// otherwise the longest matching prefix is remembered; if it has <c>^~</c> it wins; otherwise
/// regexes are tried in configuration order and the first match wins; otherwise the longest prefix
/// wins. Built once per configuration and shared by all requests.
/// </summary>
internal sealed class LocationMatcher
{
    /// <summary>
    /// Bounds the time one regex may spend on one path. Paths are at most a few KiB (Kestrel's request
    /// line limit), so a sane pattern takes microseconds; a pathological one must not hang a request.
    /// </summary>
    internal static readonly TimeSpan RegexMatchTimeout = TimeSpan.FromMilliseconds(100);

    private readonly FrozenDictionary<string, Location> _exact;
    private readonly PrefixTree<Location> _prefixes;
    private readonly Location[] _regexLocations;
    private readonly Regex[] _regexes;

    public LocationMatcher(IReadOnlyList<Location> locations)
    {
        var exact = new Dictionary<string, Location>(StringComparer.Ordinal);
        var prefixes = new List<KeyValuePair<string, Location>>();
        var regexLocations = new List<Location>();
        var regexes = new List<Regex>();
        foreach (var location in locations)
        {
            var pattern = location.Pattern;
            switch (pattern.Kind)
            {
                case LocationKind.Exact:
                    exact.TryAdd(pattern.Pattern, location);
                    break;
                case LocationKind.Prefix:
                case LocationKind.PrefixNoRegex:
                    prefixes.Add(new(pattern.Pattern, location));
                    break;
                default:
                    regexLocations.Add(location);
                    regexes.Add(WarmUp(CreateRegex(pattern)));
                    break;
            }
        }

        _exact = exact.ToFrozenDictionary(StringComparer.Ordinal);
        _prefixes = new PrefixTree<Location>(prefixes);
        _regexLocations = [.. regexLocations];
        _regexes = [.. regexes];
    }

    /// <summary>The location for <paramref name="path"/>, or <see langword="null"/> when none matches; its captures are not kept.</summary>
    /// <exception cref="RegexMatchTimeoutException">A regex location took longer than <see cref="RegexMatchTimeout"/>.</exception>
    public Location? Select(string path) => Select(path, out _);

    /// <summary>
    /// The location for <paramref name="path"/>, or <see langword="null"/> when none matches.
    /// </summary>
    /// <param name="path">The normalized request path.</param>
    /// <param name="captures">
    /// The regex's match when a regex location was selected whose directives use its captures (<c>$1</c>…), taken
    /// from the one run that selected it; otherwise null.
    /// </param>
    /// <returns>The selected location.</returns>
    /// <exception cref="RegexMatchTimeoutException">A regex location took longer than <see cref="RegexMatchTimeout"/>.</exception>
    public Location? Select(string path, out Match? captures)
    {
        captures = null;
        if (_exact.Count != 0 && _exact.TryGetValue(path, out var exact))
        {
            return exact;
        }

        var prefix = _prefixes.FindLongestPrefix(path);
        if (prefix is { Pattern.Kind: LocationKind.PrefixNoRegex })
        {
            return prefix;
        }

        var regexes = _regexes;
        for (var i = 0; i < regexes.Length; i++)
        {
            var location = _regexLocations[i];
            if (!location.UsesCaptures)
            {
                if (regexes[i].IsMatch(path))
                {
                    return location;
                }
            }
            else if (regexes[i].Match(path) is { Success: true } match)
            {
                captures = match;
                return location;
            }
        }

        return prefix;
    }

    /// <summary>The exact location of <paramref name="path"/>, or <see langword="null"/> (for the status page's explanation, not the request path).</summary>
    public Location? FindExact(string path) => _exact.Count != 0 && _exact.TryGetValue(path, out var exact) ? exact : null;

    /// <summary>The prefix location whose pattern is the longest prefix of <paramref name="path"/>, or <see langword="null"/>.</summary>
    public Location? FindLongestPrefix(string path) => _prefixes.FindLongestPrefix(path);

    /// <summary>How many regex locations there are; <see cref="RegexAt"/> gives them in configuration order.</summary>
    public int RegexCount => _regexes.Length;

    /// <summary>The regex location at <paramref name="position"/> (0-based, configuration order) and the regex it is matched with.</summary>
    public (Location Location, Regex Regex) RegexAt(int position) => (_regexLocations[position], _regexes[position]);

    /// <summary>
    /// Runs a compiled regex once, so that the JIT compiles its code now rather than within the match
    /// timeout of a client's first request: on a busy machine that first compilation alone took longer
    /// than the timeout, and the request was answered 500.
    /// </summary>
    private static Regex WarmUp(Regex regex)
    {
        try
        {
            regex.IsMatch("/");
        }
        catch (RegexMatchTimeoutException)
        {
            // The code is compiled all the same.
        }

        return regex;
    }

    /// <summary>Compiles a regex location's pattern once, as the request path will see it.</summary>
    internal static Regex CreateRegex(LocationPattern pattern, bool compiled = true)
    {
        var options = RegexOptions.CultureInvariant;
        if (compiled)
        {
            options |= RegexOptions.Compiled;
        }

        if (pattern.Kind == LocationKind.RegexCaseInsensitive)
        {
            options |= RegexOptions.IgnoreCase;
        }

        return new Regex(pattern.Pattern, options, RegexMatchTimeout);
    }
}
