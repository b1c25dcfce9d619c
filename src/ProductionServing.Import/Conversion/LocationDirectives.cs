using System.Globalization;
using System.Text.Json.Nodes;
using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>
/// The directives a location carries beside its handler (docs/directives.md), from what is in force at the location:
/// <c>add_header</c> and <c>expires</c> as <c>Headers</c>, <c>client_max_body_size</c>, <c>allow</c>/<c>deny</c>,
/// <c>limit_req</c>, <c>gzip</c>, <c>access_log off</c>; and <c>return</c>.
/// </summary>
internal static class LocationDirectives
{
    /// <summary>nginx's <c>gzip_types</c> always has text/html.</summary>
    private const string GzipAlways = "text/html";

    /// <summary>Adds the directives in force to a converted location.</summary>
    public static void Add(JsonObject location, Scope scope, bool handlerIsStatic, int captures, NginxDirective at, ImportContext context)
    {
        var headers = Headers(scope, captures, context);
        // On files, expires is Static.CacheControl; on forwarded and app responses, the header.
        var files = handlerIsStatic ? location["Static"]!.AsObject() : null;
        var expires = files is null ? Expires(scope, context) : (string?)files["CacheControl"];
        if (expires is not null && headers.ContainsKey("Cache-Control"))
        {
            // nginx sends expires' Cache-Control and add_header's as two lines, which mean their values joined
            // (RFC 9110 §5.3): one header here; on files in Static.CacheControl, which error answers do not get.
            var joined = expires + ", " + (string?)headers["Cache-Control"];
            if (files is null)
            {
                headers["Cache-Control"] = joined;
            }
            else
            {
                files["CacheControl"] = joined;
                headers.Remove("Cache-Control");
            }
        }
        else if (expires is not null && files is null)
        {
            headers["Cache-Control"] = expires;
        }

        if (headers.Count > 0)
        {
            location["Headers"] = headers;
        }

        if (scope.Get("client_max_body_size") is { Arguments.Count: 1 } size)
        {
            if (NginxValues.TrySize(size.Arguments[0], out var bytes))
            {
                location["MaxBodySize"] = bytes;
            }
            else
            {
                context.Leave(size, "not a size nginx reads (such as 10m)");
            }
        }

        if (Allow(scope.List("allow"), context) is { } allow)
        {
            location["Allow"] = allow;
        }

        if (RateLimits.Convert(scope, at, context) is { } rateLimit)
        {
            location["RateLimit"] = rateLimit;
        }

        if (Compress(scope, context) is { } compress)
        {
            location["Compress"] = compress;
        }

        if (scope.Value("access_log") == "off")
        {
            location["AccessLog"] = false;
        }
    }

    /// <summary>
    /// nginx's <c>return</c>: <c>return CODE [text]</c>, <c>return CODE URL</c> for redirects, <c>return URL</c> (302).
    /// Null when it cannot be carried over (reported).
    /// </summary>
    public static JsonObject? Return(NginxDirective directive, Scope scope, int captures, ImportContext context)
    {
        var arguments = directive.Arguments;
        if (arguments.Count is < 1 or > 2)
        {
            context.Leave(directive, "not a return nginx accepts: return CODE [text|URL] or return URL");
            return null;
        }

        int status;
        string? text;
        if (int.TryParse(arguments[0], NumberStyles.None, CultureInfo.InvariantCulture, out status))
        {
            text = arguments.Count == 2 ? arguments[1] : null;
        }
        else
        {
            (status, text) = (302, arguments[0]);
        }

        if (status == 444)
        {
            context.Leave(directive, "444 closes the connection without an answer in nginx; the location answers 404 instead");
            return new JsonObject { ["Status"] = 404 };
        }

        if (status is < 200 or > 599)
        {
            context.Leave(directive, $"status {status} is outside 200-599, the range Return answers");
            return null;
        }

        var result = new JsonObject { ["Status"] = status };
        if (text is null)
        {
            return status is 301 or 302 or 303 or 307 or 308
                ? Left(directive, "a redirect without its URL is not carried over: Return needs a Location", context)
                : result;
        }

        if (!Template(directive, text, captures, context, out var template))
        {
            return null;
        }

        if (status is 301 or 302 or 303 or 307 or 308)
        {
            result["Location"] = template;
        }
        else
        {
            result["Body"] = template;
            // nginx sends a return's text with the location's default_type (text/plain unless set).
            result["ContentType"] = scope.Value("default_type") ?? "text/plain";
        }

        return result;
    }

    private static JsonObject? Left(NginxDirective directive, string reason, ImportContext context)
    {
        context.Leave(directive, reason);
        return null;
    }

    /// <summary>
    /// nginx's <c>expires</c> as the <c>Cache-Control</c> it sends (RFC 9111 §5.2.2.1: a cache prefers max-age
    /// to the Expires header nginx also sends, so the one header carries the meaning).
    /// </summary>
    public static string? Expires(Scope scope, ImportContext context)
    {
        if (scope.Get("expires") is not { } expires)
        {
            return null;
        }

        var arguments = expires.Arguments;
        var value = arguments.Count == 1 ? arguments[0] : "";
        if (value == "off")
        {
            return null;
        }

        if (value is "epoch" || value.StartsWith('-'))
        {
            return "no-cache";
        }

        if (value == "max")
        {
            return "max-age=315360000";
        }

        if (NginxValues.TryTime(value, out var time))
        {
            return "max-age=" + ((long)time.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        context.Leave(expires, "only expires TIME, max, epoch, off or a negative time carry over, as Cache-Control");
        return null;
    }

    private static JsonObject Headers(Scope scope, int captures, ImportContext context)
    {
        var headers = new JsonObject();
        foreach (var directive in scope.List("add_header"))
        {
            var arguments = directive.Arguments;
            if (arguments.Count is < 2 or > 3 || arguments.Count == 3 && arguments[2] != "always")
            {
                context.Leave(directive, "not an add_header nginx accepts: add_header NAME VALUE [always]");
                continue;
            }

            if (headers.ContainsKey(arguments[0]))
            {
                context.Leave(directive, $"a second {arguments[0]} is not carried over: Headers has one value per name");
                continue;
            }

            if (Template(directive, arguments[1], captures, context, out var template))
            {
                headers[arguments[0]] = template;
            }
        }

        return headers;
    }

    /// <summary>
    /// nginx's first-match <c>allow</c>/<c>deny</c> list as an allow list: the allows before a final <c>deny all</c>
    /// (a deny after the last allow never decides anything). A list that is not one (a deny before an allow) is
    /// reported and converted closed, <c>Allow: []</c>: an import must never let in someone nginx kept out.
    /// </summary>
    private static JsonArray? Allow(IReadOnlyList<NginxDirective> rules, ImportContext context)
    {
        if (rules.Count == 0)
        {
            return null;
        }

        var lastAllow = -1;
        for (var i = 0; i < rules.Count; i++)
        {
            if (rules[i].Name == "allow")
            {
                lastAllow = i;
            }
        }

        var allowed = new JsonArray();
        for (var i = 0; i <= lastAllow; i++)
        {
            var rule = rules[i];
            var address = rule.Arguments.Count == 1 ? rule.Arguments[0] : "";
            if (rule.Name == "deny" || address.Length == 0)
            {
                context.Leave(rule, "only allow rules followed by deny all carry over (Allow): this location denies everyone here; list only who may come in");
                return [];
            }

            if (address == "all")
            {
                // Everyone is let in from here on: the rest of the list never applies.
                return null;
            }

            if (address.StartsWith("unix:", StringComparison.Ordinal))
            {
                context.Leave(rule, "UNIX-socket clients are not built; Kestrel listens on TCP here");
                continue;
            }

            allowed.Add(address);
        }

        // After the last allow, only denies: nginx lets in whoever is left unless one of them is deny all.
        for (var i = lastAllow + 1; i < rules.Count; i++)
        {
            if (rules[i].Arguments is ["all"])
            {
                return allowed;
            }
        }

        if (lastAllow == rules.Count - 1)
        {
            return null;
        }

        context.Leave(rules[lastAllow + 1], "a deny list without deny all does not carry over (Allow lists who may come in): this location denies everyone here");
        return [];
    }

    private static JsonObject? Compress(Scope scope, ImportContext context)
    {
        if (!scope.IsOn("gzip"))
        {
            return null;
        }

        var types = new JsonArray { GzipAlways };
        if (scope.Get("gzip_types") is { } gzipTypes)
        {
            foreach (var type in gzipTypes.Arguments)
            {
                if (type == "*")
                {
                    context.Leave(gzipTypes, "gzip_types * is not carried over: Compress lists media types (type/* for a family); its default list is used");
                    types = null;
                    break;
                }

                if (type != GzipAlways)
                {
                    types.Add(type);
                }

                // The framework's map sends scripts as text/javascript (RFC 9239), nginx's mime.types as
                // application/javascript: a list that names the one compresses the other.
                if (type is "application/javascript" or "application/x-javascript" && !gzipTypes.Arguments.Contains("text/javascript"))
                {
                    types.Add("text/javascript");
                }
            }
        }

        var minLength = 20L;
        if (scope.Get("gzip_min_length") is { Arguments.Count: 1 } length && !NginxValues.TrySize(length.Arguments[0], out minLength))
        {
            context.Leave(length, "not a size nginx reads (such as 1k)");
            minLength = 20;
        }

        var compress = new JsonObject();
        if (types is not null)
        {
            compress["Types"] = types;
        }

        compress["MinLength"] = minLength;
        return compress;
    }

    /// <summary>A value with nginx variables as a template; false (reported) when one has no equivalent.</summary>
    internal static bool Template(NginxDirective directive, string text, int captures, ImportContext context, out string template)
    {
        if (!NginxValues.TryTemplate(text, out template, out var unknown))
        {
            context.Leave(directive, $"{unknown} has no equivalent; the variables are $scheme $host $request_uri $uri $args $request_method $remote_addr $request_id $http_NAME $cookie_NAME $1-$9");
            return false;
        }

        for (var n = captures + 1; n <= 9; n++)
        {
            if (template.Contains("$" + n.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))
            {
                context.Leave(directive, $"${n} names a capture this location's regex does not have");
                return false;
            }
        }

        return true;
    }
}
