using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ProductionServing.Static;

/// <summary>
/// Evaluates conditional request headers (RFC 9110 §13) against a static representation's validators:
/// its strong entity tag and its modification time.
/// </summary>
/// <remarks>
/// <para>
/// This runs for every conditional GET (a revalidating browser sends one per cached asset), so entity
/// tags are compared on spans of the header strings, never through <c>EntityTagHeaderValue.ParseList</c>,
/// which allocates a list and an object per tag; the usual <c>If-None-Match</c>, the exact tag we sent,
/// is a single ordinal string comparison.
/// </para>
/// <para>
/// A field that is present but empty (or only whitespace) is treated as absent rather than as an empty
/// list that matches nothing: otherwise an empty <c>If-Match</c> would turn every request into 412.
/// </para>
/// </remarks>
internal static class Preconditions
{
    /// <summary>
    /// RFC 9110 §13.2.2 order: If-Match, else If-Unmodified-Since; then If-None-Match, else If-Modified-Since (GET/HEAD only).
    /// </summary>
    /// <param name="request">The request whose conditional headers are read (<c>If-Match</c>, <c>If-Unmodified-Since</c>, <c>If-None-Match</c>, <c>If-Modified-Since</c>) along with its method.</param>
    /// <param name="etag">The representation's strong entity tag including quotes, e.g. <c>"1a2b-3c"</c>.</param>
    /// <param name="lastModified">The file's modification time; compared at 1-second precision because HTTP dates have no fractions.</param>
    /// <returns>
    /// <see cref="PreconditionResult.PreconditionFailed"/> when If-Match (or If-Unmodified-Since) fails, or when
    /// If-None-Match matches on a method other than GET/HEAD; <see cref="PreconditionResult.NotModified"/> when
    /// If-None-Match (or If-Modified-Since) says a GET/HEAD client's copy is current; otherwise
    /// <see cref="PreconditionResult.Proceed"/>.
    /// </returns>
    public static PreconditionResult Evaluate(HttpRequest request, string etag, DateTimeOffset lastModified)
    {
        var headers = request.Headers;

        // Steps 1-2: If-Match (strong comparison, §13.1.1), or If-Unmodified-Since when there is no If-Match (§13.1.4).
        var ifMatch = headers.IfMatch;
        if (IsPresent(ifMatch))
        {
            if (!Matches(ifMatch, etag, weak: false))
            {
                return PreconditionResult.PreconditionFailed;
            }
        }
        else if (TryGetDate(headers.IfUnmodifiedSince, out var unmodifiedSince) && Seconds(lastModified) > unmodifiedSince.UtcTicks)
        {
            return PreconditionResult.PreconditionFailed;
        }

        // Steps 3-4: If-None-Match (weak comparison, §13.1.2), or If-Modified-Since for GET/HEAD only (§13.1.3).
        var method = request.Method;
        var getOrHead = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var ifNoneMatch = headers.IfNoneMatch;
        if (IsPresent(ifNoneMatch))
        {
            if (Matches(ifNoneMatch, etag, weak: true))
            {
                return getOrHead ? PreconditionResult.NotModified : PreconditionResult.PreconditionFailed;
            }
        }
        else if (getOrHead && TryGetDate(headers.IfModifiedSince, out var modifiedSince) && Seconds(lastModified) <= modifiedSince.UtcTicks)
        {
            return PreconditionResult.NotModified;
        }

        return PreconditionResult.Proceed;
    }

    /// <summary>
    /// RFC 9110 §13.1.5: true when a Range request may be served partially: no If-Range, or If-Range is an entity tag
    /// strongly equal to <paramref name="etag"/>, or an HTTP-date exactly equal to <paramref name="lastModified"/>.
    /// </summary>
    /// <param name="request">The request whose <c>If-Range</c> header is read.</param>
    /// <param name="etag">The representation's strong entity tag including quotes, e.g. <c>"1a2b-3c"</c>.</param>
    /// <param name="lastModified">The file's modification time, compared at 1-second precision.</param>
    /// <returns>
    /// True to honour the Range header; false to ignore it and send the whole representation with 200 (the
    /// client's partial copy is of another version). A weak tag, another tag, another date, an unparsable value
    /// or several If-Range lines never match.
    /// </returns>
    public static bool IfRangeAllows(HttpRequest request, string etag, DateTimeOffset lastModified)
    {
        var ifRange = request.Headers.IfRange;
        if (!IsPresent(ifRange))
        {
            return true;
        }

        if (ifRange.Count != 1)
        {
            // If-Range carries one validator; a list cannot be checked, and a full 200 is always safe.
            return false;
        }

        var value = ifRange[0]!;
        var text = value.AsSpan().Trim(" \t");

        // §13.1.5: an entity-tag is told from an HTTP-date by a DQUOTE in the first three characters ("x" or W/"x").
        // Only strong comparison applies, so a weak tag never equals our strong one.
        if (text[..Math.Min(3, text.Length)].Contains('"'))
        {
            return text.SequenceEqual(etag);
        }

        return HeaderUtilities.TryParseDate(new StringSegment(value), out var date) && Seconds(lastModified) == date.UtcTicks;
    }

    /// <summary>Ticks of <paramref name="time"/> in UTC, truncated to the whole second an HTTP-date can express (RFC 9110 §5.6.7).</summary>
    private static long Seconds(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        return ticks - (ticks % TimeSpan.TicksPerSecond);
    }

    /// <summary>
    /// A single valid HTTP-date; several lines (a list of dates) or an unparsable value is ignored, as
    /// RFC 9110 §13.1.3 and §13.1.4 require.
    /// </summary>
    private static bool TryGetDate(StringValues values, out DateTimeOffset date)
    {
        date = default;
        return values.Count == 1 && values[0] is { } value && HeaderUtilities.TryParseDate(new StringSegment(value), out date);
    }

    private static bool IsPresent(StringValues values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (!values[i].AsSpan().Trim(" \t").IsEmpty)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether any member of an <c>If-Match</c>/<c>If-None-Match</c> list (possibly over several lines) matches
    /// <paramref name="etag"/>: <c>*</c>, or an entity-tag equal by weak (<paramref name="weak"/>) or strong
    /// comparison (RFC 9110 §8.8.3.2).
    /// </summary>
    private static bool Matches(StringValues values, string etag, bool weak)
    {
        if (values.Count == 1)
        {
            // Fast path: a client revalidating echoes the exact ETag it was given.
            var single = values[0]!;
            if (string.Equals(single, etag, StringComparison.Ordinal))
            {
                return true;
            }

            return ListMatches(single, etag, weak);
        }

        for (var i = 0; i < values.Count; i++)
        {
            if (ListMatches(values[i], etag, weak))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Scans one field line, <c>"*" / #entity-tag</c> with optional whitespace and empty elements. A malformed
    /// member (unquoted, unterminated, trailing junk) never matches and the scan resumes after the next comma,
    /// so a bad member cannot hide a good one.
    /// </summary>
    private static bool ListMatches(ReadOnlySpan<char> list, ReadOnlySpan<char> etag, bool weak)
    {
        var pos = 0;
        while (true)
        {
            while (pos < list.Length && list[pos] is ' ' or '\t' or ',')
            {
                pos++;
            }

            if (pos == list.Length)
            {
                return false;
            }

            var matched = false;
            if (list[pos] == '*')
            {
                pos++;
                matched = true;
            }
            else
            {
                // entity-tag = [ weak ] opaque-tag; weak = %s"W/" (case-sensitive, §8.8.3).
                var isWeak = list[pos..].StartsWith("W/", StringComparison.Ordinal);
                var start = isWeak ? pos + 2 : pos;
                if (start < list.Length && list[start] == '"')
                {
                    var close = list[(start + 1)..].IndexOf('"');
                    if (close < 0)
                    {
                        return false;
                    }

                    var end = start + 1 + close + 1;
                    matched = list[start..end].SequenceEqual(etag) && (weak || !isWeak);
                    pos = end;
                }
            }

            while (pos < list.Length && list[pos] is ' ' or '\t')
            {
                pos++;
            }

            if (pos == list.Length || list[pos] == ',')
            {
                if (matched)
                {
                    return true;
                }

                continue;
            }

            // Malformed member: skip it.
            var comma = list[pos..].IndexOf(',');
            if (comma < 0)
            {
                return false;
            }

            pos += comma;
        }
    }
}
