using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Diagnostics;

/// <summary>
/// The optional <c>Server-Timing</c> response header (W3C Server Timing, <c>ProductionServingOptions.ServerTiming</c>):
/// each handler appends what it knows before the response starts — a pool its queue wait, the proxy its
/// upstream's connect and header times — so a browser's developer tools show where the time went. A
/// header field may be repeated (W3C Server Timing §3: "the header field can be repeated"), so each part is
/// one more field and nothing is merged.
/// </summary>
internal static class ServerTiming
{
    public const string HeaderName = "Server-Timing";

    /// <summary>Appends <c>name;dur=ms</c>, with <c>desc</c> when given (a server's address).</summary>
    /// <param name="response">The response, not started yet.</param>
    /// <param name="name">The metric's name (a token: <c>queue</c>, <c>upstream</c>, <c>connect</c>).</param>
    /// <param name="duration">The duration, written in milliseconds as the specification asks.</param>
    /// <param name="description">A description (written as a quoted string), or null.</param>
    public static void Append(HttpResponse response, string name, TimeSpan duration, string? description = null)
    {
        var ms = duration.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
        var value = description is null
            ? name + ";dur=" + ms
            : name + ";dur=" + ms + ";desc=\"" + description.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        response.Headers.Append(HeaderName, value);
    }
}
