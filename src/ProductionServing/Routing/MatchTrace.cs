using System.Text.RegularExpressions;

namespace ProductionServing.Routing;

/// <summary>Why a location was selected, in the words of nginx's documentation.</summary>
internal enum MatchReason
{
    /// <summary>An <c>= /path</c> location equals the path: it wins at once.</summary>
    Exact,

    /// <summary>The longest matching prefix has <c>^~</c>: regexes are not tried.</summary>
    PrefixNoRegex,

    /// <summary>A regex matched: the first in configuration order wins.</summary>
    Regex,

    /// <summary>No regex matched: the longest matching prefix wins.</summary>
    LongestPrefix,

    /// <summary>Nothing matched: the request goes where unmatched requests go.</summary>
    NoMatch,
}

/// <summary>What one regex location did for a path.</summary>
internal enum RegexOutcome
{
    /// <summary>Selection ended before it (an exact match, a <c>^~</c> prefix, or an earlier regex matched).</summary>
    NotTried,

    NoMatch,

    Match,

    /// <summary>It took longer than <see cref="LocationMatcher.RegexMatchTimeout"/>; a client's request would get 500.</summary>
    TimedOut,
}

/// <summary>One regex location as selection met it.</summary>
/// <param name="Location">The regex location.</param>
/// <param name="Outcome">What it did for the path.</param>
internal readonly record struct RegexTrial(Location Location, RegexOutcome Outcome);

/// <summary>
/// The steps of <see cref="LocationMatcher.Select(string)"/> for one path, for the status page's
/// <c>match</c> answer: the exact candidate, the longest prefix, each regex in order, and the winner.
/// It follows the same steps as <see cref="LocationMatcher.Select(string)"/> (a test checks that both agree),
/// off the request path, so <c>Select</c> stays one lookup and one loop.
/// </summary>
internal sealed class MatchTrace
{
    private MatchTrace(string path, Location? exact, Location? prefix, RegexTrial[] regexes, Location? winner, MatchReason reason, int regexNumber)
    {
        Path = path;
        Exact = exact;
        LongestPrefix = prefix;
        Regexes = regexes;
        Winner = winner;
        Reason = reason;
        RegexNumber = regexNumber;
    }

    /// <summary>The normalized path that was matched.</summary>
    public string Path { get; }

    public Location? Exact { get; }

    public Location? LongestPrefix { get; }

    /// <summary>Every regex location, in configuration order, with what it did.</summary>
    public IReadOnlyList<RegexTrial> Regexes { get; }

    /// <summary>The selected location, or <see langword="null"/> for <see cref="MatchReason.NoMatch"/> (and after a regex timed out).</summary>
    public Location? Winner { get; }

    public MatchReason Reason { get; }

    /// <summary>For <see cref="MatchReason.Regex"/>, the winner's 1-based number among the regex locations; otherwise 0.</summary>
    public int RegexNumber { get; }

    /// <summary>Whether a regex timed out: a client's request for this path would be answered 500.</summary>
    public bool TimedOut
    {
        get
        {
            foreach (var trial in Regexes)
            {
                if (trial.Outcome == RegexOutcome.TimedOut)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Selects the location for <paramref name="path"/> (normalized) step by step.</summary>
    public static MatchTrace Of(LocationMatcher matcher, string path)
    {
        var regexes = new RegexTrial[matcher.RegexCount];
        for (var i = 0; i < regexes.Length; i++)
        {
            regexes[i] = new RegexTrial(matcher.RegexAt(i).Location, RegexOutcome.NotTried);
        }

        var exact = matcher.FindExact(path);
        var prefix = matcher.FindLongestPrefix(path);
        if (exact is not null)
        {
            return new MatchTrace(path, exact, prefix, regexes, exact, MatchReason.Exact, 0);
        }

        if (prefix is { Pattern.Kind: LocationKind.PrefixNoRegex })
        {
            return new MatchTrace(path, null, prefix, regexes, prefix, MatchReason.PrefixNoRegex, 0);
        }

        for (var i = 0; i < regexes.Length; i++)
        {
            var (location, regex) = matcher.RegexAt(i);
            bool matched;
            try
            {
                matched = regex.IsMatch(path);
            }
            catch (RegexMatchTimeoutException)
            {
                regexes[i] = new RegexTrial(location, RegexOutcome.TimedOut);
                return new MatchTrace(path, null, prefix, regexes, null, MatchReason.NoMatch, 0);
            }

            regexes[i] = new RegexTrial(location, matched ? RegexOutcome.Match : RegexOutcome.NoMatch);
            if (matched)
            {
                return new MatchTrace(path, null, prefix, regexes, location, MatchReason.Regex, i + 1);
            }
        }

        return prefix is null
            ? new MatchTrace(path, null, null, regexes, null, MatchReason.NoMatch, 0)
            : new MatchTrace(path, null, prefix, regexes, prefix, MatchReason.LongestPrefix, 0);
    }
}
