using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Directives;

/// <summary>
/// A value with nginx variables (<c>https://$host$request_uri</c>), parsed once at configuration time into
/// literal and variable parts. Expanding it per request allocates at most the result: a template that is one
/// variable hands back the request's own string, and a constant hands back itself.
/// </summary>
/// <remarks>
/// The variables (docs/directives.md, "Variables") are a subset of nginx's: <c>$scheme</c>, <c>$host</c>, <c>$request_uri</c>, <c>$uri</c>, <c>$args</c>,
/// <c>$request_method</c>, <c>$remote_addr</c>, <c>$request_id</c>, <c>$http_NAME</c>, <c>$cookie_NAME</c> and
/// <c>$1</c>…<c>$9</c>, written <c>$name</c> or <c>${name}</c> (nginx's form for a name followed by letters). As
/// in nginx, a name runs over letters, digits and '_', a capture is one digit, and a '$' that starts no name
/// is an error: nginx has no escape for it either.
/// </remarks>
internal sealed class VariableTemplate
{
    private readonly Part[] _parts;

    private VariableTemplate(string text, Part[] parts, int highestCapture)
    {
        Text = text;
        _parts = parts;
        HighestCapture = highestCapture;
    }

    private enum Kind
    {
        Literal,
        Scheme,
        Host,
        RequestUri,
        Uri,
        Args,
        RequestMethod,
        RemoteAddr,
        RequestId,
        Header,
        Cookie,
        Capture,
    }

    /// <summary>The template as configured.</summary>
    public string Text { get; }

    /// <summary>The highest <c>$N</c> the template uses, or 0: the location's regex must have that many groups.</summary>
    public int HighestCapture { get; }

    /// <summary>Whether the template has no variables: its value is <see cref="Text"/> for every request.</summary>
    public bool IsConstant => _parts.Length == 0 || (_parts.Length == 1 && _parts[0].Kind == Kind.Literal);

    /// <summary>Whether the template is exactly one variable, <c>$remote_addr</c> (hash keys hash its bytes instead).</summary>
    public bool IsRemoteAddress => _parts is [{ Kind: Kind.RemoteAddr }];

    /// <summary>Whether the template is exactly one variable, <c>$uri</c>.</summary>
    public bool IsUri => _parts is [{ Kind: Kind.Uri }];

    /// <summary>Parses a template the validator accepted (its problem, if any, was reported at startup).</summary>
    /// <exception cref="InvalidOperationException">The template was not validated.</exception>
    public static VariableTemplate Parse(string text, int captures) =>
        TryParse(text, captures, out var template, out var problem) ? template : throw new InvalidOperationException(problem);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="problem"/> says what is wrong, for a message that names the key.</summary>
    /// <param name="text">The configured value.</param>
    /// <param name="captures">How many capture groups the location's regex has (0 for a location without a regex, or none at all).</param>
    /// <param name="template">The template, when it parses.</param>
    /// <param name="problem">What is wrong, when it does not.</param>
    /// <returns>Whether <paramref name="text"/> is a valid template.</returns>
    public static bool TryParse(string text, int captures, out VariableTemplate template, out string problem)
    {
        template = null!;
        problem = "";
        var parts = new List<Part>();
        var highest = 0;
        var literalStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] != '$')
            {
                i++;
                continue;
            }

            if (i > literalStart)
            {
                parts.Add(new Part(Kind.Literal, text[literalStart..i]));
            }

            var start = i;
            i++;
            var braced = i < text.Length && text[i] == '{';
            if (braced)
            {
                i++;
            }

            var nameStart = i;
            if (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                // A capture is one digit, as nginx reads "$12" as $1 and "2".
                i++;
            }
            else
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }
            }

            var name = text[nameStart..i];
            if (braced)
            {
                if (i >= text.Length || text[i] != '}')
                {
                    problem = $"'{text[start..]}' opens '${{' without a closing '}}' after the variable's name.";
                    return false;
                }

                i++;
            }

            if (name.Length == 0)
            {
                problem = $"'$' at position {start} starts no variable; write a variable such as $host or ${{uri}} (nginx has no escape for a literal '$').";
                return false;
            }

            if (!TryVariable(name, captures, out var part, out problem))
            {
                return false;
            }

            highest = Math.Max(highest, part.Capture);
            parts.Add(part);
            literalStart = i;
        }

        if (literalStart < text.Length)
        {
            parts.Add(new Part(Kind.Literal, text[literalStart..]));
        }

        template = new VariableTemplate(text, [.. parts], highest);
        return true;
    }

    private static bool TryVariable(string name, int captures, out Part part, out string problem)
    {
        problem = "";
        part = name switch
        {
            "scheme" => new Part(Kind.Scheme),
            "host" => new Part(Kind.Host),
            "request_uri" => new Part(Kind.RequestUri),
            "uri" => new Part(Kind.Uri),
            "args" => new Part(Kind.Args),
            "request_method" => new Part(Kind.RequestMethod),
            "remote_addr" => new Part(Kind.RemoteAddr),
            "request_id" => new Part(Kind.RequestId),
            _ when name.StartsWith("http_", StringComparison.Ordinal) && name.Length > "http_".Length
                => new Part(Kind.Header, name["http_".Length..].Replace('_', '-')),
            _ when name.StartsWith("cookie_", StringComparison.Ordinal) && name.Length > "cookie_".Length
                => new Part(Kind.Cookie, name["cookie_".Length..]),
            _ when name.Length == 1 && char.IsAsciiDigit(name[0]) => new Part(Kind.Capture, capture: name[0] - '0'),
            _ => default,
        };

        if (part.Kind == Kind.Capture && (part.Capture == 0 || part.Capture > captures))
        {
            problem = part.Capture == 0
                ? "$0 is not a capture; captures are $1 to $9."
                : captures == 0
                    ? $"${part.Capture} is a capture, but there is no regex whose groups it could name (only a regex location has captures)."
                    : $"${part.Capture} names a capture the location's regex does not have (it has {captures} group{(captures == 1 ? "" : "s")}).";
            return false;
        }

        if (part.Kind == Kind.Literal)
        {
            problem = $"${name} is not a variable; use $scheme, $host, $request_uri, $uri, $args, $request_method, $remote_addr, $request_id, $http_NAME, $cookie_NAME or $1 to $9.";
            return false;
        }

        return true;
    }

    /// <summary>The template's value for one request.</summary>
    public string Expand(in VariableScope scope)
    {
        var parts = _parts;
        if (parts.Length == 0)
        {
            return "";
        }

        if (parts.Length == 1)
        {
            return ValueOf(parts[0], scope);
        }

        var builder = new DefaultInterpolatedStringHandler(0, 0, null, stackalloc char[256]);
        for (var i = 0; i < parts.Length; i++)
        {
            Append(ref builder, parts[i], scope);
        }

        return builder.ToStringAndClear();
    }

    /// <summary>
    /// The template's value for a header of one request (a response header, <c>Location</c>, an upstream request's
    /// header): what the variables bring that a header cannot carry is percent-encoded (<see cref="HeaderValue"/>).
    /// </summary>
    public string ExpandHeader(in VariableScope scope) => HeaderValue.Encode(Expand(scope));

    private static void Append(ref DefaultInterpolatedStringHandler builder, in Part part, in VariableScope scope)
    {
        switch (part.Kind)
        {
            case Kind.RemoteAddr:
                // Formatted into the result, not through a string of its own.
                if (RemoteAddress(scope.Context) is { } address)
                {
                    builder.AppendFormatted(address);
                }

                break;
            case Kind.Args:
                builder.AppendFormatted(Args(scope.Context));
                break;
            case Kind.RequestUri:
                builder.AppendFormatted(RequestUri(scope.Context));
                break;
            default:
                builder.AppendFormatted(ValueOf(part, scope));
                break;
        }
    }

    private static string ValueOf(in Part part, in VariableScope scope)
    {
        var context = scope.Context;
        var request = context.Request;
        return part.Kind switch
        {
            Kind.Literal => part.Text,
            Kind.Scheme => request.Scheme,
            Kind.Host => Host(context),
            Kind.RequestUri => RequestUri(context).ToString(),
            Kind.Uri => scope.Path,
            Kind.Args => Args(context).ToString(),
            Kind.RequestMethod => request.Method,
            Kind.RemoteAddr => RemoteAddress(context)?.ToString() ?? "",
            Kind.RequestId => RequestId.Of(context),
            Kind.Header => request.Headers[part.Text].ToString(),
            Kind.Cookie => request.Cookies[part.Text] ?? "",
            _ => Capture(scope, part.Capture),
        };
    }

    /// <summary>nginx's <c>$host</c>: the request's host name in lower case, without the port; the server's own address when the request named none.</summary>
    private static string Host(HttpContext context)
    {
        var host = context.Request.Host.Host;
        if (host.Length == 0)
        {
            return context.Connection.LocalIpAddress?.ToString() ?? "";
        }

        return host.AsSpan().ContainsAnyInRange('A', 'Z') ? host.ToLowerInvariant() : host;
    }

    /// <summary>
    /// nginx's <c>$request_uri</c>: the target as the client sent it, with its query; an absolute-form target
    /// (<c>GET http://host/path</c>) gives its path and query, as nginx's parser keeps them.
    /// </summary>
    private static ReadOnlySpan<char> RequestUri(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return string.Concat(context.Request.PathBase.Value, context.Request.Path.Value, context.Request.QueryString.Value);
        }

        if (raw[0] == '/')
        {
            return raw;
        }

        var scheme = raw.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return raw;
        }

        var path = raw.IndexOf('/', scheme + 3);
        return path < 0 ? "/" : raw.AsSpan(path);
    }

    /// <summary>nginx's <c>$args</c>: the query without its '?'.</summary>
    private static ReadOnlySpan<char> Args(HttpContext context) =>
        context.Request.QueryString.Value is { Length: > 1 } query ? query.AsSpan(1) : default;

    /// <summary>The client's address, an IPv4-mapped IPv6 address as the IPv4 one (a dual-stack socket's view of an IPv4 client).</summary>
    private static IPAddress? RemoteAddress(HttpContext context) =>
        context.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : context.Connection.RemoteIpAddress;

    /// <summary><c>$N</c>: the group's text, or empty when it took no part in the match (nginx's empty capture).</summary>
    private static string Capture(in VariableScope scope, int number) =>
        scope.Captures is { } match && number < match.Groups.Count && match.Groups[number] is { Success: true } group ? group.Value : "";

    private readonly struct Part(Kind kind, string text = "", int capture = 0)
    {
        public Kind Kind { get; } = kind;

        /// <summary>A literal's text, or the name of a header or cookie.</summary>
        public string Text { get; } = text;

        /// <summary>For <see cref="Kind.Capture"/>, its number (1–9).</summary>
        public int Capture { get; } = capture;
    }
}
