using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Net.Http.Headers;
using ProductionServing.Directives;
using ProductionServing.Routing;

namespace ProductionServing.Configuration;

/// <summary>Validation of <see cref="ProductionServingOptions.Locations"/> and their handlers.</summary>
internal static class LocationRules
{
    public static void Validate(ProductionServingOptions options, List<string> errors)
    {
        // nginx refuses two locations with the same prefix ("duplicate location"); "= /x" and "/x" may coexist.
        var seen = new Dictionary<(bool Exact, string Pattern), int>();
        var resolvedHosts = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Locations.Count; i++)
        {
            var path = $"Locations[{i}]";
            var location = options.Locations[i];
            if (location is null)
            {
                errors.Add($"{path}: is empty; give its Match and one handler.");
                continue;
            }

            LocationPattern? pattern = null;
            if (!LocationPattern.TryParse(location.Match, out var parsed, out var problem))
            {
                errors.Add($"{path}.Match: {problem}");
            }
            else
            {
                pattern = parsed;
                ValidatePattern(path + ".Match", parsed, seen, i, errors);
            }

            var handlers = new List<string>(3);
            if (location.Static is not null)
            {
                handlers.Add(nameof(location.Static));
                ValidateStatic(path + ".Static", location.Static, pattern, errors);
            }

            if (location.Proxy is not null)
            {
                handlers.Add(nameof(location.Proxy));
                ValidateProxy(path + ".Proxy", location.Proxy, pattern, options, resolvedHosts, errors);
            }

            if (location.App is not null)
            {
                handlers.Add(nameof(location.App));
                var pool = location.App.Pool;
                if (pool is not null && !string.Equals(pool, PoolOptions.DefaultPoolName, StringComparison.OrdinalIgnoreCase) && !options.Pools.ContainsKey(pool))
                {
                    errors.Add($"{path}.App.Pool: pool '{pool}' is not defined; use 'default', or null to run the app without a pool.");
                }
            }

            if (location.Return is not null)
            {
                handlers.Add(nameof(location.Return));
            }

            DirectiveRules.Validate(path, location, pattern, errors);

            if (location.RateLimit is { } rateLimit)
            {
                ValidateRateLimit(path + ".RateLimit", rateLimit, pattern, errors);
            }

            if (location.Compress is not null)
            {
                ValidateCompress(path + ".Compress", location.Compress, errors);
            }

            if (handlers.Count != 1)
            {
                errors.Add(handlers.Count == 0
                    ? $"{path}: has no handler; set exactly one of Static, Proxy, App or Return."
                    : $"{path}: has {handlers.Count} handlers ({string.Join(", ", handlers)}); set exactly one.");
            }
        }
    }

    private static void ValidateRateLimit(string path, RateLimitOptions rateLimit, LocationPattern? pattern, List<string> errors)
    {
        if (!RateLimitSettings.TryParseRate(rateLimit.Rate, out _, out _))
        {
            errors.Add(rateLimit.Rate is null
                ? $"{path}.Rate: is required; write 10r/s or 600r/m."
                : $"{path}.Rate: '{rateLimit.Rate}' is not a rate of 1 to {RateLimitSettings.MaxRequests} requests per second or minute; write 10r/s or 600r/m.");
        }

        if (rateLimit.Burst is < 0 or > RateLimitSettings.MaxBurst)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{path}.Burst: must be from 0 to {RateLimitSettings.MaxBurst} requests admitted beyond the rate (got {rateLimit.Burst})."));
        }

        if (string.IsNullOrEmpty(rateLimit.Key))
        {
            errors.Add($"{path}.Key: is empty, which would limit no request; leave it unset for $remote_addr, or write a template such as $http_x_api_key.");
        }
        else if (!VariableTemplate.TryParse(rateLimit.Key, DirectiveRules.Captures(pattern), out _, out var problem))
        {
            errors.Add($"{path}.Key: {problem}");
        }
    }

    private static void ValidateCompress(string path, CompressOptions options, List<string> errors)
    {
        Rules.AtLeast(errors, path + ".MinLength", options.MinLength, 0);
        if (options.Types is not { } types)
        {
            errors.Add($"{path}.Types: is null; leave it unset for the default types (text/*, application/json, …).");
            return;
        }

        if (types.Count == 0)
        {
            errors.Add($"{path}.Types: is empty, so nothing would be compressed; list media types such as text/html, or remove Compress.");
        }

        for (var i = 0; i < types.Count; i++)
        {
            if (CompressTypeProblem(types[i]) is { } problem)
            {
                errors.Add($"{path}.Types[{i}]: {problem}");
            }
        }
    }

    /// <summary>What is wrong with a <c>Compress.Types</c> entry, or null: it must be <c>type/subtype</c> or <c>type/*</c>, without parameters.</summary>
    private static string? CompressTypeProblem(string? type)
    {
        if (string.IsNullOrWhiteSpace(type))
        {
            return "is empty; give a media type such as text/html or text/*.";
        }

        if (type.Contains(';', StringComparison.Ordinal))
        {
            return $"'{type}' has parameters; give the media type alone (text/html, not text/html; charset=utf-8): parameters are ignored when matching.";
        }

        var slash = type.IndexOf('/', StringComparison.Ordinal);
        var topLevel = slash < 0 ? type : type[..slash];
        var subtype = slash < 0 ? "" : type[(slash + 1)..];
        if (slash <= 0 || subtype.Length == 0 || topLevel == "*" || !Rules.IsToken(topLevel) || (subtype != "*" && !Rules.IsToken(subtype)))
        {
            return $"'{type}' is not a media type such as text/html or a wildcard such as text/*; */* is not accepted, as it would compress images and archives that are compressed already.";
        }

        return null;
    }

    private static void ValidatePattern(string path, LocationPattern pattern, Dictionary<(bool, string), int> seen, int index, List<string> errors)
    {
        if (pattern.IsRegex)
        {
            try
            {
                _ = LocationMatcher.CreateRegex(pattern, compiled: false);
            }
            catch (ArgumentException ex)
            {
                errors.Add($"{path}: '{pattern.Pattern}' is not a valid regular expression: {ex.Message}");
            }

            return;
        }

        // Requests are matched on the decoded, normalized path, so a pattern that is not in that form never matches.
        if (!RequestPath.TryNormalize(pattern.Pattern, out var normalized) || normalized != pattern.Pattern)
        {
            errors.Add($"{path}: '{pattern.Pattern}' can never match, because requests are matched on the decoded path with '//', '.' and '..' resolved; write the path in that form.");
        }

        var key = (pattern.Kind == LocationKind.Exact, pattern.Pattern);
        if (!seen.TryAdd(key, index))
        {
            errors.Add($"{path}: duplicates Locations[{seen[key]}] ('{pattern.Pattern}'); remove one of them.");
        }
    }

    private static void ValidateStatic(string path, StaticOptions options, LocationPattern? pattern, List<string> errors)
    {
        if (options.Root is not null && options.Alias is not null)
        {
            errors.Add($"{path}: Root and Alias cannot both be set; Root appends the whole request path, Alias replaces the matched prefix.");
        }

        if (options.Alias is not null && pattern is { IsRegex: true })
        {
            errors.Add($"{path}.Alias: is only for prefix and exact locations; use Root on a regex location.");
        }

        // Both lists start non-null and the binder never sets null, but code can assign it.
        if (options.Index is not { } index)
        {
            errors.Add($"{path}.Index: is null; leave it unset for index.html, or use an empty list to turn index files off.");
        }
        else
        {
            for (var i = 0; i < index.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(index[i]))
                {
                    errors.Add($"{path}.Index[{i}]: is empty; give a file name such as index.html.");
                }
            }
        }

        if (options.TryFiles is null)
        {
            errors.Add($"{path}.TryFiles: is null; leave it unset or use an empty list for none.");
        }
        else
        {
            ValidateTryFiles(path + ".TryFiles", options.TryFiles, errors);
        }

        if (string.IsNullOrEmpty(options.DefaultContentType) || !MediaTypeHeaderValue.TryParse(options.DefaultContentType, out _))
        {
            errors.Add($"{path}.DefaultContentType: '{options.DefaultContentType}' is not a media type such as application/octet-stream.");
        }

        if (options.CacheControl is { } cacheControl && cacheControl.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            errors.Add($"{path}.CacheControl: must be a single header line (no CR or LF).");
        }

        Rules.AtLeast(errors, path + ".MaxRanges", options.MaxRanges, 1);
    }

    private static void ValidateTryFiles(string path, IList<string> entries, List<string> errors)
    {
        if (entries.Count == 1)
        {
            errors.Add($"{path}: needs at least two entries, the candidates and a last fallback (=404, @app or a path), as nginx's try_files does.");
        }

        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var entryPath = $"{path}[{i}]";
            var last = i == entries.Count - 1;
            if (string.IsNullOrEmpty(entry))
            {
                errors.Add($"{entryPath}: is empty.");
            }
            else if (entry[0] is '=' or '@')
            {
                if (!last)
                {
                    errors.Add($"{entryPath}: '{entry}' may only be the last entry.");
                }
                else if (entry[0] == '@' && entry != "@app")
                {
                    errors.Add($"{entryPath}: '{entry}' is not a named location; the only one is @app (the app, through the default pool).");
                }
                else if (entry[0] == '=' && (entry.Length != 4 || !int.TryParse(entry.AsSpan(1), out var code) || code < 100 || code > 599))
                {
                    errors.Add($"{entryPath}: '{entry}' is not =CODE with an HTTP status code from 100 to 599, such as =404.");
                }
            }
            else if (entry[0] != '/' && !entry.StartsWith("$uri", StringComparison.Ordinal))
            {
                errors.Add($"{entryPath}: '{entry}' must start with '/' or $uri.");
            }
            else if (WithoutVariables(entry, last).Contains('$', StringComparison.Ordinal))
            {
                errors.Add(last
                    ? $"{entryPath}: '{entry}' uses a variable other than $uri, $args and $is_args, the ones a last entry may use."
                    : $"{entryPath}: '{entry}' uses a variable other than $uri, the only one a candidate may use.");
            }
            else if (last && !QueryOnlyInQuery(entry))
            {
                // The client's query must not become part of the path of an internal redirect, which may reach
                // Internal locations (and whose dot segments would be resolved).
                errors.Add($"{entryPath}: '{entry}' puts the query in the path; write $args after '?' (/index.php?$args) or $is_args$args at the end.");
            }
        }
    }

    /// <summary>Whether a last entry's <c>$args</c> and <c>$is_args</c> stay in its query: after its '?', or a final <c>$is_args$args</c>.</summary>
    private static bool QueryOnlyInQuery(string entry)
    {
        var question = entry.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? entry : entry[..question];
        if (path.EndsWith("$is_args$args", StringComparison.Ordinal))
        {
            path = path[..^"$is_args$args".Length];
        }

        return !path.Contains("$args", StringComparison.Ordinal) && !path.Contains("$is_args", StringComparison.Ordinal);
    }

    /// <summary>An entry without the variables it may use: <c>$uri</c>, and in the last entry the query's.</summary>
    private static string WithoutVariables(string entry, bool last)
    {
        var rest = entry.Replace("$uri", "", StringComparison.Ordinal);
        return last ? rest.Replace("$is_args", "", StringComparison.Ordinal).Replace("$args", "", StringComparison.Ordinal) : rest;
    }

    private static void ValidateProxy(string path, ProxyOptions proxy, LocationPattern? pattern, ProductionServingOptions options,
        Dictionary<string, bool> resolvedHosts, List<string> errors)
    {
        var passPath = path + ".Pass";
        var pass = Rules.HttpUrl(errors, passPath, proxy.Pass, "http://backend or http://127.0.0.1:5001/");
        if (pass is null)
        {
            return;
        }

        if (pattern is { IsRegex: true } && Rules.HasPathPart(proxy.Pass!))
        {
            errors.Add($"{passPath}: cannot have a path part on a regex location (nginx: \"proxy_pass cannot have URI part in location given by regular expression\"); remove the path.");
        }

        var host = pass.IdnHost;
        if (options.Upstreams.TryGetValue(host, out var upstream))
        {
            if (!pass.IsDefaultPort)
            {
                errors.Add($"{passPath}: the upstream name '{host}' takes no port; the servers' addresses carry the ports.");
            }

            // The scheme is the Pass URL's for every server (nginx's proxy_pass); a server written with
            // another one would be spoken to in a protocol its address does not say.
            if (upstream?.Servers is { } servers
                && servers.Any(s => s?.Address is { } a && Uri.TryCreate(a, UriKind.Absolute, out var u) && u.Scheme != pass.Scheme))
            {
                errors.Add($"{passPath}: '{pass.Scheme}' does not match the scheme of upstream '{host}''s server addresses; use the same scheme in both.");
            }

            return;
        }

        if (pass.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return;
        }

        if (!resolvedHosts.TryGetValue(host, out var resolves))
        {
            resolves = Resolves(host);
            resolvedHosts[host] = resolves;
        }

        if (!resolves)
        {
            var defined = options.Upstreams.Count == 0 ? "none are defined" : "defined: " + string.Join(", ", options.Upstreams.Keys);
            errors.Add($"{passPath}: host '{host}' is neither an upstream ({defined}) nor a host name that resolves (nginx: \"host not found in upstream\").");
        }
    }

    private static bool Resolves(string host)
    {
        try
        {
            return Dns.GetHostAddresses(host).Length > 0;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
