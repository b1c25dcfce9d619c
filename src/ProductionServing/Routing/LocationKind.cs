namespace ProductionServing.Routing;

/// <summary>The nginx <c>location</c> modifiers.</summary>
internal enum LocationKind
{
    /// <summary><c>/prefix</c>: longest prefix, unless a regex matches.</summary>
    Prefix,

    /// <summary><c>^~ /prefix</c>: longest prefix that, when it is the longest, stops the regex search.</summary>
    PrefixNoRegex,

    /// <summary><c>= /path</c>: exact match; wins at once.</summary>
    Exact,

    /// <summary><c>~ regex</c>: case-sensitive regular expression.</summary>
    Regex,

    /// <summary><c>~* regex</c>: case-insensitive regular expression.</summary>
    RegexCaseInsensitive,
}
