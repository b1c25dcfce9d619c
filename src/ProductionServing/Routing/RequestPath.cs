using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ProductionServing.Routing;

/// <summary>
/// Produces the path locations are matched on, as nginx does: the request target as the client sent
/// it, percent-decoded (including <c>%2F</c>), duplicate slashes merged and dot segments resolved.
/// </summary>
/// <remarks>
/// The raw target is used rather than <see cref="HttpRequest.Path"/> because Kestrel has already
/// resolved dot segments there (clamping <c>/../x</c> to <c>/x</c>, which we must refuse) and keeps
/// <c>%2F</c> encoded while decoding <c>%25</c>, so decoding <see cref="HttpRequest.Path"/> again would
/// double-decode. Refused with 400: a path that would climb above <c>/</c>; a malformed escape; bytes
/// that are not valid UTF-8 (overlong forms included); and, decoded or not, control characters
/// (NUL, CR, LF, …) and backslashes, which no legitimate URL needs and which are path separators or
/// header breakers somewhere downstream (a file system on Windows, a redirect's Location header).
/// </remarks>
internal static class RequestPath
{
    private const int StackLimit = 512;

    /// <summary>Printable ASCII except the characters that need a closer look ('%' and '\').</summary>
    private static readonly SearchValues<char> PlainChars =
        SearchValues.Create(" !\"#$&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>
    /// The path to match, relative to <see cref="HttpRequest.PathBase"/>, or empty for a target with no
    /// path (<c>OPTIONS *</c>, <c>CONNECT host:port</c>), which no location takes; false when the request must get 400.
    /// </summary>
    public static bool TryGetMatchPath(HttpContext context, out string path)
    {
        var request = context.Request;
        var rawPath = PathPart(context.Features.Get<IHttpRequestFeature>()?.RawTarget);
        var current = request.Path.Value;
        if (!rawPath.IsEmpty && !request.PathBase.HasValue && rawPath.SequenceEqual(current) && !NeedsNormalizing(rawPath))
        {
            // The common case, checked first: the path as sent needs nothing, and Kestrel's string is the
            // same text (so it is also right for a request re-executed under an unchanged path).
            path = current!;
            return true;
        }

        if (IsReExecuted(context))
        {
            rawPath = default;
        }

        if (rawPath.IsEmpty)
        {
            // No origin-form target (asterisk or authority form, a test host that sets none) or a request
            // re-executed by an error handler under a new path: Request.Path is all there is. It is
            // already percent-decoded, so it is normalized without decoding it a second time.
            var whole = (request.PathBase + request.Path).Value;
            if (string.IsNullOrEmpty(whole))
            {
                path = "";
                return true;
            }

            if (!TryNormalize(whole, decode: false, out path))
            {
                return false;
            }
        }
        else if (NeedsNormalizing(rawPath))
        {
            if (!TryNormalize(rawPath, decode: true, out path))
            {
                return false;
            }
        }
        else
        {
            path = rawPath.ToString();
        }

        path = StripPathBase(path, request.PathBase);
        return true;
    }

    /// <summary>Decodes and normalizes an origin-form path; false when it must be refused with 400.</summary>
    public static bool TryNormalize(ReadOnlySpan<char> rawPath, out string normalized) =>
        TryNormalize(rawPath, decode: true, out normalized);

    /// <summary>Normalizes a path that is already decoded (a TryFiles candidate, an X-Accel-Redirect target); false when it must be refused.</summary>
    public static bool TryNormalizeDecoded(ReadOnlySpan<char> path, out string normalized) =>
        TryNormalize(path, decode: false, out normalized);

    /// <summary>
    /// Decodes a path an app handed over (X-Accel-Redirect), refusing any "." or ".." segment, encoded
    /// or not, as nginx refuses an "unsafe URI" there: an app that checks a file name for ".." must not
    /// be walked out of its folder by "%2e%2e".
    /// </summary>
    public static bool TryNormalizeHandoff(ReadOnlySpan<char> path, out string normalized) =>
        TryNormalize(path, decode: true, out normalized, allowDotSegments: false);

    private static bool TryNormalize(ReadOnlySpan<char> rawPath, bool decode, out string normalized, bool allowDotSegments = true)
    {
        normalized = "";
        if (rawPath.IsEmpty || rawPath[0] != '/')
        {
            return false;
        }

        if (!NeedsNormalizing(rawPath))
        {
            normalized = rawPath.ToString();
            return true;
        }

        byte[]? rentedBytes = null;
        char[]? rentedChars = null;
        try
        {
            // Percent-decoding never makes the text longer; a non-ASCII char takes at most 3 UTF-8 bytes.
            var bytes = rawPath.Length * 3 <= StackLimit ? stackalloc byte[StackLimit] : (rentedBytes = ArrayPool<byte>.Shared.Rent(rawPath.Length * 3));
            if (!TryToUtf8(rawPath, decode, bytes, out var byteCount))
            {
                return false;
            }

            var chars = byteCount <= StackLimit ? stackalloc char[StackLimit] : (rentedChars = ArrayPool<char>.Shared.Rent(byteCount));
            if (Utf8.ToUtf16(bytes[..byteCount], chars, out _, out var charCount, replaceInvalidSequences: false) != OperationStatus.Done)
            {
                return false;
            }

            var length = RemoveDotSegments(chars[..charCount], allowDotSegments);
            if (length < 0)
            {
                return false;
            }

            normalized = new string(chars[..length]);
            return true;
        }
        finally
        {
            if (rentedBytes is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedBytes);
            }

            if (rentedChars is not null)
            {
                ArrayPool<char>.Shared.Return(rentedChars);
            }
        }
    }

    private static bool NeedsNormalizing(ReadOnlySpan<char> path) =>
        path.ContainsAnyExcept(PlainChars) || path.IndexOf("//", StringComparison.Ordinal) >= 0 || path.IndexOf("/.", StringComparison.Ordinal) >= 0;

    /// <summary>An error handler re-running the pipeline under a new <see cref="HttpRequest.Path"/> (the raw target is the original's).</summary>
    /// <summary>Whether an error handler re-executes the request under a new path (the raw target is the original's).</summary>
    public static bool IsReExecuted(HttpContext context) =>
        context.Features.Get<IStatusCodeReExecuteFeature>() is not null || context.Features.Get<IExceptionHandlerFeature>() is not null;

    /// <summary>The path of an origin-form (<c>/p?q</c>) or absolute-form (<c>http://h/p?q</c>) target; empty for other forms.</summary>
    public static ReadOnlySpan<char> PathPart(string? target)
    {
        if (string.IsNullOrEmpty(target))
        {
            return default;
        }

        var span = target.AsSpan();
        if (span[0] != '/')
        {
            var scheme = span.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0)
            {
                return default;
            }

            var authority = span[(scheme + 3)..];
            var slash = authority.IndexOfAny('/', '?');
            span = slash >= 0 && authority[slash] == '/' ? authority[slash..] : "/";
        }

        var query = span.IndexOf('?');
        return query >= 0 ? span[..query] : span;
    }

    /// <summary>UTF-8 bytes of the path, percent-decoded when <paramref name="decode"/>; false for a malformed escape or a refused character.</summary>
    private static bool TryToUtf8(ReadOnlySpan<char> source, bool decode, Span<byte> destination, out int length)
    {
        length = 0;
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            if (c == '%' && decode)
            {
                if (i + 2 >= source.Length || !char.IsAsciiHexDigit(source[i + 1]) || !char.IsAsciiHexDigit(source[i + 2]))
                {
                    return false;
                }

                c = (char)((HexValue(source[i + 1]) << 4) | HexValue(source[i + 2]));
                i += 2;
                if (c >= 0x80)
                {
                    // One byte of a UTF-8 sequence; validated as a whole afterwards.
                    destination[length++] = (byte)c;
                    continue;
                }
            }

            if (c < 0x20 || c == 0x7F || c == '\\')
            {
                return false;
            }

            if (char.IsAscii(c))
            {
                destination[length++] = (byte)c;
                continue;
            }

            // Non-ASCII text in the target (or in an already-decoded path): take it as UTF-8.
            if (Rune.DecodeFromUtf16(source[i..], out var rune, out var consumed) != OperationStatus.Done)
            {
                return false;
            }

            length += rune.EncodeToUtf8(destination[length..]);
            i += consumed - 1;
        }

        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>
    /// Merges duplicate slashes and resolves <c>.</c> and <c>..</c> segments in place (RFC 3986 §5.2.4,
    /// with nginx's <c>merge_slashes on</c>); returns the new length, or -1 when <c>..</c> would climb above <c>/</c>.
    /// </summary>
    private static int RemoveDotSegments(Span<char> path, bool allowDotSegments)
    {
        var written = 0;
        var trailingSlash = false;
        var i = 0;
        while (i < path.Length)
        {
            while (i < path.Length && path[i] == '/')
            {
                i++;
            }

            if (i == path.Length)
            {
                trailingSlash = true;
                break;
            }

            var end = path[i..].IndexOf('/');
            end = end < 0 ? path.Length : i + end;
            var segment = path[i..end];
            var last = end == path.Length;
            if (!allowDotSegments && segment is "." or "..")
            {
                return -1;
            }

            if (segment is ".")
            {
                trailingSlash = last;
            }
            else if (segment is "..")
            {
                if (written == 0)
                {
                    return -1;
                }

                written = path[..written].LastIndexOf('/');
                trailingSlash = last;
            }
            else
            {
                // Writing never overtakes reading: the output so far is no longer than the input read.
                path[written++] = '/';
                segment.CopyTo(path[written..]);
                written += segment.Length;
                trailingSlash = false;
            }

            i = end;
        }

        if (trailingSlash || written == 0)
        {
            path[written++] = '/';
        }

        return written;
    }

    private static string StripPathBase(string path, PathString pathBase)
    {
        if (!pathBase.HasValue)
        {
            return path;
        }

        var value = pathBase.Value!;
        if (path.StartsWith(value, StringComparison.OrdinalIgnoreCase))
        {
            if (path.Length == value.Length)
            {
                return "/";
            }

            if (path[value.Length] == '/')
            {
                return path[value.Length..];
            }
        }

        return path;
    }
}
