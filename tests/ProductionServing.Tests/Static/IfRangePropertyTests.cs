using System.Globalization;
using CsCheck;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using ProductionServing.Static;

namespace ProductionServing.Tests.Static;

/// <summary>
/// If-Range under random and adversarial input: deciding never throws, and a range is honoured only for
/// the current version of the file (RFC 9110 §13.1.5: the strong tag itself, or exactly its modification
/// date), so a client's partial copy of another version is never completed with bytes of this one.
/// </summary>
public sealed class IfRangePropertyTests
{
    private const string ETag = "\"5f1e-abc\"";
    private static readonly DateTimeOffset LastModified = new(2024, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    private static readonly string[] Pieces =
    [
        ETag, "W/", "\"", "5f1e-abc", "\"5f1e-abd\"", "*", " ", "\t", ",", "\0", "é",
        LastModified.ToString("r", CultureInfo.InvariantCulture),
        LastModified.AddSeconds(1).ToString("r", CultureInfo.InvariantCulture),
        LastModified.AddSeconds(-1).ToString("r", CultureInfo.InvariantCulture),
        "Tuesday, 02-Jan-24 03:04:05 GMT", "Tue Jan  2 03:04:05 2024", "Tue, 02 Jan 2024 03:04:05 +0100", "GMT", "Tue, ", "2024",
    ];

    [Fact]
    public void Deciding_NeverThrows_AndHonoursARangeOnlyForTheCurrentVersion()
    {
        var value = Gen.OneOf(
            Gen.Int[0, Pieces.Length - 1].Select(i => Pieces[i]).Array[1, 4].Select(string.Concat),
            Gen.String);

        value.Array[0, 3].Sample(values =>
        {
            var request = new DefaultHttpContext().Request;
            request.Headers.IfRange = new StringValues(values);

            var allows = Preconditions.IfRangeAllows(request, ETag, LastModified);

            Assert.True(!allows || IsAbsent(values) || IsCurrentVersion(values),
                $"a range was honoured for If-Range [{string.Join(" | ", values)}]");
        }, iter: 10_000);

        // The property holds trivially for a function that never allows; these must be allowed.
        foreach (var current in new[] { ETag, " " + ETag + "\t", LastModified.ToString("r", CultureInfo.InvariantCulture) })
        {
            var request = new DefaultHttpContext().Request;
            request.Headers.IfRange = current;
            Assert.True(Preconditions.IfRangeAllows(request, ETag, LastModified), current);
        }
    }

    private static bool IsAbsent(string[] values) => Array.TrueForAll(values, v => v.Trim(' ', '\t').Length == 0);

    private static bool IsCurrentVersion(string[] values)
    {
        if (values.Length != 1)
        {
            return false;
        }

        var text = values[0].Trim(' ', '\t');
        return text == ETag
            || (HeaderUtilities.TryParseDate(text, out var date)
                && date.UtcTicks == LastModified.UtcTicks - (LastModified.UtcTicks % TimeSpan.TicksPerSecond));
    }
}
