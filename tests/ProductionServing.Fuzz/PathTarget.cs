using ProductionServing.Routing;

namespace ProductionServing.Fuzz;

/// <summary>
/// Properties of <see cref="RequestPath"/>'s three normalisations (a raw request target, an already
/// decoded path, an app's X-Accel-Redirect hand-off) for one input.
/// </summary>
/// <remarks>
/// Checked for every accepted result:
/// 1. nothing throws (an exception escapes to the fuzzer as a crash);
/// 2. the shape matchers and file mapping rely on: starts with '/', no "//", no "." or ".." segment, no
///    ASCII control character or '\' (the characters the normaliser refuses, decoded or not), no lone surrogate;
/// 3. normalising the result again as a decoded path gives it back unchanged (idempotence; not as a raw
///    target, since decoding "%2525" twice is exactly what must not happen);
/// 4. acceptance and result equal those of <see cref="PathModel"/>, written for clarity rather than speed,
///    so the two must agree on every input, refusals included.
/// </remarks>
internal static class PathTarget
{
    public static void Run(string input)
    {
        var decoded = RequestPath.TryNormalize(input, out var fromRaw);
        Check(input, decoded, fromRaw, PathModel.Normalize(input, decode: true, allowDotSegments: true), "TryNormalize");

        var asDecoded = RequestPath.TryNormalizeDecoded(input, out var fromDecoded);
        Check(input, asDecoded, fromDecoded, PathModel.Normalize(input, decode: false, allowDotSegments: true), "TryNormalizeDecoded");

        var handedOff = RequestPath.TryNormalizeHandoff(input, out var fromHandoff);
        Check(input, handedOff, fromHandoff, PathModel.Normalize(input, decode: true, allowDotSegments: false), "TryNormalizeHandoff");

        // The hand-off only refuses more than a request target does (dot segments): what it accepts, it reads the same way.
        PropertyViolationException.Check(!handedOff || (decoded && fromHandoff == fromRaw), "TryNormalizeHandoff accepts only what TryNormalize gives the same result for", input, fromHandoff);
    }

    private static void Check(string input, bool accepted, string result, string? expected, string function)
    {
        PropertyViolationException.Check(accepted == expected is not null, function + " accepts exactly what the model accepts (model: " + (expected is null ? "refused" : "accepted") + ")", input, accepted ? result : null);
        if (!accepted)
        {
            PropertyViolationException.Check(result.Length == 0, function + " gives an empty path when it refuses", input, result);
            return;
        }

        CheckShape(input, result, function);
        PropertyViolationException.Check(result == expected, function + " gives the model's result " + FuzzTarget.Escape(expected!), input, result);
        PropertyViolationException.Check(RequestPath.TryNormalizeDecoded(result, out var again) && again == result, function + "'s result is unchanged by TryNormalizeDecoded", input, result);
    }

    private static void CheckShape(string input, string path, string function)
    {
        PropertyViolationException.Check(path.StartsWith('/'), function + " gives a path starting with '/'", input, path);
        PropertyViolationException.Check(!path.Contains("//", StringComparison.Ordinal), function + " gives a path without \"//\"", input, path);
        foreach (var segment in path.Split('/'))
        {
            PropertyViolationException.Check(segment is not ("." or ".."), function + " gives a path without '.' or '..' segments", input, path);
        }

        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            PropertyViolationException.Check(c >= ' ' && c != '\x7f' && c != '\\', function + " gives a path without control characters or '\\'", input, path);
            if (char.IsHighSurrogate(c) && i + 1 < path.Length && char.IsLowSurrogate(path[i + 1]))
            {
                i++;
                continue;
            }

            PropertyViolationException.Check(!char.IsSurrogate(c), function + " gives well-formed UTF-16", input, path);
        }
    }
}
