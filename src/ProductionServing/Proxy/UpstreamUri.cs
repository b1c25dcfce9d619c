using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// The path and query sent upstream, by nginx's <c>proxy_pass</c> rules: without a path part in
/// <c>Pass</c> the request target goes unchanged, byte for byte; with one, the matched location prefix
/// is replaced by it and the rest of the target follows as the client sent it.
/// </summary>
internal static class UpstreamUri
{
    /// <summary>
    /// Creation options that keep a path and query exactly as given: <see cref="Uri"/> would otherwise
    /// remove dot segments and change escapes, and the upstream must see what the client sent.
    /// </summary>
    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <param name="origin"><c>scheme://host:port</c> of the chosen server.</param>
    /// <param name="target">The raw request target, or null to rebuild it from the request's (decoded) path and query.</param>
    /// <param name="context">The request.</param>
    /// <param name="path">The normalized path the location matched.</param>
    /// <param name="prefix">The location's prefix, when <paramref name="passPath"/> replaces it.</param>
    /// <param name="passPath">The path part of <c>Pass</c>, or null when it has none.</param>
    public static Uri Build(string origin, string? target, HttpContext context, string path, string? prefix, string? passPath)
    {
        var (rawPath, query) = Split(target, context);
        string pathAndQuery;
        if (passPath is null)
        {
            pathAndQuery = string.Concat(rawPath, query);
        }
        else if (rawPath.StartsWith(prefix!, StringComparison.Ordinal))
        {
            pathAndQuery = string.Concat(passPath, rawPath.AsSpan(prefix!.Length), query);
        }
        else
        {
            // The prefix was written with escapes or dot segments: replace it in the normalized path and
            // escape the rest again, as nginx does.
            var rest = new PathString(path[prefix!.Length..].Insert(0, "/")).ToUriComponent()[1..];
            pathAndQuery = string.Concat(passPath, rest, query);
        }

        return new Uri(origin + pathAndQuery, in Verbatim);
    }

    /// <summary>The raw path and the query (with its '?') of the request target.</summary>
    private static (string Path, string Query) Split(string? target, HttpContext context)
    {
        if (string.IsNullOrEmpty(target) || (target[0] != '/' && !target.Contains("://", StringComparison.Ordinal)))
        {
            // No origin-form target (a test host): rebuild it from the decoded parts.
            var request = context.Request;
            return ((request.PathBase + request.Path).ToUriComponent(), request.QueryString.Value ?? "");
        }

        var start = 0;
        if (target[0] != '/')
        {
            // Absolute form (http://host/p?q): the path starts after the authority.
            var authority = target.IndexOf("://", StringComparison.Ordinal) + 3;
            start = target.IndexOf('/', authority);
            if (start < 0)
            {
                var q = target.IndexOf('?', authority);
                return ("/", q < 0 ? "" : target[q..]);
            }
        }

        var question = target.IndexOf('?', start);
        return question < 0
            ? (start == 0 ? target : target[start..], "")
            : (target[start..question], target[question..]);
    }
}
