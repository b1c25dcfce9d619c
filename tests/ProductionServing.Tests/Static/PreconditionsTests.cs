using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using ProductionServing.Static;

namespace ProductionServing.Tests.Static;

/// <summary>
/// Conditional requests (RFC 9110 §13). Rows cite the RFC section or nginx-tests <c>not_modified.t</c>
/// (its If-Match/If-None-Match block and its post-2038 If-Modified-Since dates), or ASP.NET Core's
/// StaticFiles <c>RangeHeaderTests.cs</c> for If-Range. The representation's tag is <c>"abc"</c> and it was
/// modified at 03:04:05.678 on 2 Jan 2024, which HTTP-dates see as 03:04:05. Expected results are
/// <see cref="PreconditionResult"/> names (the enum is internal, so a public theory cannot take it).
/// </summary>
public sealed class PreconditionsTests
{
    private const string ETag = "\"abc\"";
    private const string Modified = "Tue, 02 Jan 2024 03:04:05 GMT";
    private const string Before = "Tue, 02 Jan 2024 03:04:04 GMT";
    private const string After = "Tue, 02 Jan 2024 03:04:06 GMT";
    private static readonly DateTimeOffset LastModified = new(2024, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    [Theory]
    // No conditional headers.
    [InlineData("GET", "", "", "Proceed")]
    // nginx not_modified.t: if-none-match, fail, complex list, all, weak.
    [InlineData("GET", "If-None-Match", ETag, "NotModified")]
    [InlineData("GET", "If-None-Match", "\"foo\"", "Proceed")]
    [InlineData("GET", "If-None-Match", "\"foo\", \"bar\", \"abc\" , \"baz\"", "NotModified")]
    [InlineData("GET", "If-None-Match", "*", "NotModified")]
    [InlineData("GET", "If-None-Match", "W/\"abc\"", "NotModified")]
    // nginx not_modified.t: if-match, fail, complex list (with a tab), all, weak fail.
    [InlineData("GET", "If-Match", ETag, "Proceed")]
    [InlineData("GET", "If-Match", "\"foo\"", "PreconditionFailed")]
    [InlineData("GET", "If-Match", "\"foo\", \"bar\", \t\"abc\" , \"baz\"", "Proceed")]
    [InlineData("GET", "If-Match", "*", "Proceed")]
    [InlineData("GET", "If-Match", "W/\"abc\"", "PreconditionFailed")]
    // RFC 9110 §13.1.2: a matching If-None-Match on another method is 412; HEAD is like GET.
    [InlineData("HEAD", "If-None-Match", ETag, "NotModified")]
    [InlineData("PUT", "If-None-Match", ETag, "PreconditionFailed")]
    [InlineData("POST", "If-None-Match", "*", "PreconditionFailed")]
    [InlineData("DELETE", "If-Match", "\"foo\"", "PreconditionFailed")]
    // RFC 9110 §8.8.3: "W/" is case-sensitive and an opaque-tag is quoted; malformed members never match,
    // and do not hide a good member after them (§5.6.1 lists, commas inside a quoted tag are data).
    [InlineData("GET", "If-None-Match", "w/\"abc\"", "Proceed")]
    [InlineData("GET", "If-None-Match", "abc", "Proceed")]
    [InlineData("GET", "If-None-Match", "\"abc", "Proceed")]
    [InlineData("GET", "If-None-Match", "\"abc\"x", "Proceed")]
    [InlineData("GET", "If-None-Match", "\"ABC\"", "Proceed")]
    [InlineData("GET", "If-None-Match", "abc, \"abc\"", "NotModified")]
    [InlineData("GET", "If-None-Match", "\"a,b\", \"abc\"", "NotModified")]
    [InlineData("GET", "If-None-Match", ", ,\"abc\",", "NotModified")]
    [InlineData("GET", "If-Match", "abc", "PreconditionFailed")]
    // Several field lines form one list (RFC 9110 §5.3); '\n' separates the lines in these rows.
    [InlineData("GET", "If-None-Match", "\"foo\"\n\"abc\"", "NotModified")]
    [InlineData("GET", "If-Match", "\"foo\"\n\"bar\", \"abc\"", "Proceed")]
    // A present-but-empty field is treated as absent (see Preconditions remarks).
    [InlineData("GET", "If-Match", " ", "Proceed")]
    [InlineData("GET", "If-None-Match", "", "Proceed")]
    // RFC 9110 §13.1.3: If-Modified-Since, GET/HEAD only, compared at one-second precision.
    [InlineData("GET", "If-Modified-Since", Modified, "NotModified")]
    [InlineData("HEAD", "If-Modified-Since", Modified, "NotModified")]
    [InlineData("GET", "If-Modified-Since", After, "NotModified")]
    [InlineData("GET", "If-Modified-Since", Before, "Proceed")]
    [InlineData("POST", "If-Modified-Since", After, "Proceed")]
    // nginx not_modified.t "0x7F000000" and "0x7FFFFFFF": dates up to the 32-bit time_t limit.
    [InlineData("GET", "If-Modified-Since", "Wed, 08 Jul 2037 22:53:52 GMT", "NotModified")]
    [InlineData("GET", "If-Modified-Since", "Tue, 19 Jan 2038 03:14:07 GMT", "NotModified")]
    // nginx not_modified.t "0x17FFFFFFF" (run there only with 32-bit time_t): with 64-bit time just a later date.
    [InlineData("GET", "If-Modified-Since", "Fri, 25 Feb 2174 09:42:23 GMT", "NotModified")]
    // RFC 9110 §5.6.7: recipients accept the obsolete RFC 850 and asctime formats.
    [InlineData("GET", "If-Modified-Since", "Friday, 31-Dec-49 23:59:59 GMT", "NotModified")]
    [InlineData("GET", "If-Modified-Since", "Fri Dec 31 23:59:59 2100", "NotModified")]
    // RFC 9110 §13.1.3: an invalid date, or more than one member, is ignored.
    [InlineData("GET", "If-Modified-Since", "yesterday", "Proceed")]
    [InlineData("GET", "If-Modified-Since", After + "\n" + After, "Proceed")]
    // RFC 9110 §13.1.4: If-Unmodified-Since fails when the file changed after the date.
    [InlineData("GET", "If-Unmodified-Since", Before, "PreconditionFailed")]
    [InlineData("GET", "If-Unmodified-Since", Modified, "Proceed")]
    [InlineData("PUT", "If-Unmodified-Since", Before, "PreconditionFailed")]
    [InlineData("GET", "If-Unmodified-Since", "not a date", "Proceed")]
    public void Evaluate_SingleCondition_FollowsRfc9110(string method, string header, string value, string expected)
    {
        var request = Request(method, header, value);

        Assert.Equal(Enum.Parse<PreconditionResult>(expected), Preconditions.Evaluate(request, ETag, LastModified));
    }

    [Theory]
    // RFC 9110 §13.2.2 step 1 before step 3: a failed If-Match wins over a matching If-None-Match.
    [InlineData("GET", "If-Match", "\"foo\"", "If-None-Match", ETag, "PreconditionFailed")]
    // Step 2 before step 3: a failed If-Unmodified-Since wins too.
    [InlineData("GET", "If-Unmodified-Since", Before, "If-None-Match", ETag, "PreconditionFailed")]
    // RFC 9110 §13.1.4: If-Unmodified-Since is ignored when If-Match is present.
    [InlineData("GET", "If-Match", ETag, "If-Unmodified-Since", Before, "Proceed")]
    [InlineData("GET", "If-Match", "\"foo\"", "If-Unmodified-Since", After, "PreconditionFailed")]
    // RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present, either way.
    [InlineData("GET", "If-None-Match", "\"foo\"", "If-Modified-Since", After, "Proceed")]
    [InlineData("GET", "If-None-Match", ETag, "If-Modified-Since", Before, "NotModified")]
    // Both pass: a satisfied If-Match goes on to If-None-Match.
    [InlineData("GET", "If-Match", ETag, "If-None-Match", ETag, "NotModified")]
    [InlineData("GET", "If-Match", ETag, "If-None-Match", "\"foo\"", "Proceed")]
    public void Evaluate_SeveralConditions_FollowsRfc9110Precedence(
        string method, string header1, string value1, string header2, string value2, string expected)
    {
        var request = Request(method, header1, value1);
        request.Headers[header2] = value2;

        Assert.Equal(Enum.Parse<PreconditionResult>(expected), Preconditions.Evaluate(request, ETag, LastModified));
    }

    [Theory]
    // No If-Range: ranges are allowed.
    [InlineData("", true)]
    // ASP.NET Core RangeHeaderTests: IfRangeWithCurrentEtag, IfRangeWithOldEtag.
    [InlineData(ETag, true)]
    [InlineData("\"OldEtag\"", false)]
    // ASP.NET Core RangeHeaderTests: IfRangeWithCurrentDate, IfRangeWithOldDate (a day before).
    [InlineData(Modified, true)]
    [InlineData("Mon, 01 Jan 2024 03:04:05 GMT", false)]
    // RFC 9110 §13.1.5: strong comparison only, and a date must be an exact match.
    [InlineData("W/\"abc\"", false)]
    [InlineData(After, false)]
    [InlineData(Before, false)]
    [InlineData("  \"abc\"  ", true)]
    [InlineData("\"abc\", \"def\"", false)]
    [InlineData("garbage", false)]
    [InlineData(ETag + "\n" + ETag, false)]
    public void IfRangeAllows_Validator_MatchesOnlyTheCurrentVersion(string value, bool expected)
    {
        var request = Request("GET", "If-Range", value);

        Assert.Equal(expected, Preconditions.IfRangeAllows(request, ETag, LastModified));
    }

    [Fact]
    public void Evaluate_CommonRevalidations_DoNotAllocate()
    {
        // The hot path of conditional GETs: the exact tag, a short list, a weak echo, a date.
        HttpRequest[] requests =
        [
            Request("GET", "If-None-Match", ETag),
            Request("GET", "If-None-Match", "\"x\", \"abc\""),
            Request("GET", "If-None-Match", "W/\"abc\""),
            Request("GET", "If-Match", ETag),
            Request("GET", "If-Modified-Since", Modified),
            Request("GET", "If-Range", ETag),
        ];

        for (var i = 0; i < requests.Length; i++)
        {
            Preconditions.Evaluate(requests[i], ETag, LastModified);
            Preconditions.IfRangeAllows(requests[i], ETag, LastModified);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 100; round++)
        {
            for (var i = 0; i < requests.Length; i++)
            {
                Preconditions.Evaluate(requests[i], ETag, LastModified);
                Preconditions.IfRangeAllows(requests[i], ETag, LastModified);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static HttpRequest Request(string method, string header, string value)
    {
        var request = new DefaultHttpContext().Request;
        request.Method = method;
        if (header.Length > 0)
        {
            request.Headers[header] = new StringValues(value.Split('\n'));
        }

        return request;
    }
}
