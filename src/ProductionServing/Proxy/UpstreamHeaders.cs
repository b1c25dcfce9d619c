using System.Net.Http.Headers;
using ProductionServing.Directives;

namespace ProductionServing.Proxy;

/// <summary>
/// A proxy location's <c>SetHeaders</c> (nginx <c>proxy_set_header</c>): request headers for the upstream, set
/// after the standard forwarding headers, each value a variable template.
/// </summary>
/// <remarks>
/// As nginx does, a header whose value is empty (configured <c>""</c>, or expanded to nothing such as an absent
/// <c>$http_x_api_key</c>) is not sent at all. The validator keeps out the headers the proxy frames itself
/// (<c>Content-Length</c>, <c>Transfer-Encoding</c>, the hop-by-hop headers).
/// </remarks>
internal sealed class UpstreamHeaders
{
    private readonly string[] _names;
    private readonly VariableTemplate?[] _values;

    private UpstreamHeaders(string[] names, VariableTemplate?[] values, int highestCapture)
    {
        _names = names;
        _values = values;
        HighestCapture = highestCapture;
    }

    /// <summary>The highest capture (<c>$N</c>) a value uses, or 0.</summary>
    public int HighestCapture { get; }

    /// <summary>Compiles headers the validator accepted; null when there are none.</summary>
    public static UpstreamHeaders? Compile(IDictionary<string, string?> headers, int captures)
    {
        if (headers.Count == 0)
        {
            return null;
        }

        var names = new string[headers.Count];
        var values = new VariableTemplate?[headers.Count];
        var highest = 0;
        var i = 0;
        foreach (var (name, value) in headers)
        {
            names[i] = name;
            if (!string.IsNullOrEmpty(value))
            {
                var template = VariableTemplate.Parse(value, captures);
                values[i] = template;
                highest = Math.Max(highest, template.HighestCapture);
            }

            i++;
        }

        return new UpstreamHeaders(names, values, highest);
    }

    /// <summary>Sets the headers on one attempt's request.</summary>
    public void Apply(HttpRequestMessage message, in VariableScope scope)
    {
        var names = _names;
        for (var i = 0; i < names.Length; i++)
        {
            var name = names[i];
            var value = _values[i]?.ExpandHeader(scope);
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                // The validator refuses an empty Host: HTTP/1.1 requires one (RFC 9112 §3.2), and HttpClient sends the URI's.
                message.Headers.Host = string.IsNullOrEmpty(value) ? null : value;
                continue;
            }

            var headers = IsContentHeader(name) ? message.Content?.Headers : (HttpHeaders)message.Headers;
            if (headers is null)
            {
                // A content header on a request without a body: there is nothing it could describe.
                continue;
            }

            headers.Remove(name);
            if (!string.IsNullOrEmpty(value))
            {
                headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    private static bool IsContentHeader(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "Expires", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "Last-Modified", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "Allow", StringComparison.OrdinalIgnoreCase);
}
