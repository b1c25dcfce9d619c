using System.Globalization;
using Microsoft.Net.Http.Headers;
using ProductionServing.Directives;
using ProductionServing.Routing;

namespace ProductionServing.Configuration;

/// <summary>Validation of a location's directives (docs/directives.md): <c>Return</c>, <c>Headers</c>, <c>MaxBodySize</c>, <c>Allow</c>, <c>Proxy.SetHeaders</c>.</summary>
internal static class DirectiveRules
{
    /// <summary>Headers that frame the message or belong to one connection (RFC 9110 §7.6.1): the server sets them, not a directive.</summary>
    private static readonly HashSet<string> Framing = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.ContentLength, HeaderNames.TransferEncoding, HeaderNames.Connection, HeaderNames.KeepAlive, "Proxy-Connection",
        HeaderNames.TE, HeaderNames.Trailer, HeaderNames.Upgrade,
    };

    /// <param name="path">The location's key path, <c>Locations[i]</c>.</param>
    /// <param name="location">The location.</param>
    /// <param name="pattern">Its parsed <c>Match</c>, or null when that is malformed (any <c>$1</c> to <c>$9</c> is then accepted).</param>
    /// <param name="errors">Where problems are added.</param>
    public static void Validate(string path, LocationOptions location, LocationPattern? pattern, List<string> errors)
    {
        var captures = Captures(pattern);
        if (location.Return is { } answer)
        {
            ValidateReturn(path + ".Return", answer, captures, errors);
        }

        if (location.Headers is { } headers)
        {
            ValidateHeaders(path + ".Headers", headers, captures, "response", errors);
        }

        if (location.MaxBodySize is < 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{path}.MaxBodySize: must be a number of bytes, 0 for unlimited (got {location.MaxBodySize}); leave it out for the server's own limit."));
        }

        if (location.Allow is { } allow)
        {
            for (var i = 0; i < allow.Count; i++)
            {
                if (!ClientNetworks.TryParse(allow[i], out _, out var problem))
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}.Allow[{i}]: {problem}"));
                }
            }
        }

        if (location.Proxy?.SetHeaders is { } setHeaders)
        {
            ValidateHeaders(path + ".Proxy.SetHeaders", setHeaders, captures, "upstream request", errors);
            if (setHeaders.TryGetValue(HeaderNames.Host, out var host) && string.IsNullOrEmpty(host))
            {
                errors.Add($"{path}.Proxy.SetHeaders.Host: cannot be removed: an HTTP/1.1 request must have a Host (RFC 9112 §3.2); leave it out for the upstream's own, or set PreserveHost.");
            }
        }
    }

    /// <summary>How many groups the location's regex has, for its templates; 9 when the regex is malformed (its own error says so).</summary>
    internal static int Captures(LocationPattern? pattern)
    {
        if (pattern is null)
        {
            // A malformed Match: its own error says so, and no $N is reported against it.
            return 9;
        }

        if (pattern is not { IsRegex: true } regex)
        {
            return 0;
        }

        try
        {
            return ServingSnapshot.CaptureCount(regex);
        }
        catch (ArgumentException)
        {
            // The pattern's own message says what is wrong with the regex.
            return 9;
        }
    }

    private static void ValidateReturn(string path, ReturnOptions answer, int captures, List<string> errors)
    {
        var status = answer.Status;
        if (status is < 200 or > 599)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}.Status: must be an HTTP status from 200 to 599 (got {status}), such as 301 or 404."));
            return;
        }

        if (ReturnHandler.IsRedirect(status))
        {
            if (string.IsNullOrEmpty(answer.Location))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}.Location: is required for a {status} redirect, for example 'https://$host$request_uri'."));
            }

            if (answer.Body is not null)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}.Body: a {status} redirect has no body (nginx's 'return {status} URL'); remove Body."));
            }
        }
        else if (answer.Location is not null)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}.Location: is only for the redirect statuses 301, 302, 303, 307 and 308 (got {status}); remove it, or put the text in Body."));
        }

        if (answer.Body is not null && status is 204 or 304)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}.Body: a {status} response has no body (RFC 9110 §15.3.5, §15.4.5); remove Body."));
        }

        Template(path + ".Location", answer.Location, captures, errors, headerValue: true);
        Template(path + ".Body", answer.Body, captures, errors, headerValue: false);
        if (string.IsNullOrEmpty(answer.ContentType) || !MediaTypeHeaderValue.TryParse(answer.ContentType, out _) || HasLineBreak(answer.ContentType))
        {
            errors.Add($"{path}.ContentType: '{answer.ContentType}' is not a media type such as text/plain; charset=utf-8.");
        }
    }

    private static void ValidateHeaders(string path, IDictionary<string, string?> headers, int captures, string what, List<string> errors)
    {
        foreach (var (name, value) in headers)
        {
            var key = path + "." + name;
            if (!Rules.IsToken(name))
            {
                errors.Add($"{path}: '{name}' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only, RFC 9110 §5.1).");
                continue;
            }

            if (Framing.Contains(name))
            {
                errors.Add($"{key}: is set by the server for each {what}, from its body and connection; a fixed value would break the message. Remove it.");
                continue;
            }

            Template(key, value, captures, errors, headerValue: true);
        }
    }

    private static void Template(string path, string? value, int captures, List<string> errors, bool headerValue)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        if (headerValue && HasLineBreak(value))
        {
            errors.Add($"{path}: must be a single header line (no CR, LF or NUL).");
        }
        else if (headerValue && HeaderValue.IndexOfUnsendable(value) is var at and >= 0)
        {
            // Kestrel and HttpClient send header values in ASCII only (RFC 9110 §5.5 makes other octets obsolete):
            // such a value would fail every request it is sent on.
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{path}: has '{value[at]}' (U+{(int)value[at]:X4}), which a header value cannot carry: use ASCII only, percent-encoding the rest (%C3%A9 for é)."));
        }
        else if (!VariableTemplate.TryParse(value, captures, out _, out var problem))
        {
            errors.Add($"{path}: {problem}");
        }
    }

    private static bool HasLineBreak(string value) => value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0;
}
