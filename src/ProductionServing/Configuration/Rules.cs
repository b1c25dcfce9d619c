using System.Globalization;

namespace ProductionServing.Configuration;

/// <summary>The checks shared by the option validators, each adding a <c>"path: problem"</c> message.</summary>
internal static class Rules
{
    // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    private static readonly System.Buffers.SearchValues<char> TokenChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>Whether <paramref name="value"/> is an HTTP token (RFC 9110 §5.6.2): a header name, a media type's part.</summary>
    public static bool IsToken(string value) => value.Length > 0 && value.AsSpan().IndexOfAnyExcept(TokenChars) < 0;

    public static void AtLeast(List<string> errors, string path, int value, int minimum)
    {
        if (value < minimum)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: must be at least {minimum} (got {value})."));
        }
    }

    /// <summary>The longest duration a timer takes (int.MaxValue milliseconds, about 24.8 days): a longer timeout would fail every request.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMilliseconds(int.MaxValue);

    public static void Positive(List<string> errors, string path, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: must be a positive duration (got {value:c})."));
        }

        AtMostMaxDuration(errors, path, value);
    }

    private static void AtMostMaxDuration(List<string> errors, string path, TimeSpan value)
    {
        if (value > MaxDuration)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: must be at most {MaxDuration:c}, the longest timer .NET sets (got {value:c})."));
        }
    }

    public static void NotNegative(List<string> errors, string path, TimeSpan value)
    {
        AtMostMaxDuration(errors, path, value);
        if (value < TimeSpan.Zero)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: must not be negative (got {value:c})."));
        }
    }

    /// <summary>Checks an absolute http(s) URL; returns it, or <see langword="null"/> after adding the problem.</summary>
    public static Uri? HttpUrl(List<string> errors, string path, string? value, string example)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{path}: is required, for example '{example}'.");
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{path}: '{value}' is not an absolute http or https URL, for example '{example}'.");
            return null;
        }

        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            errors.Add($"{path}: '{value}' must not have user info, a query or a fragment.");
            return null;
        }

        return uri;
    }

    /// <summary>Whether the URL text has a path part after its authority (nginx's "URI part"), even just <c>/</c>.</summary>
    public static bool HasPathPart(string url)
    {
        var authority = url.IndexOf("://", StringComparison.Ordinal) + 3;
        return url.IndexOf('/', authority) >= 0;
    }
}
