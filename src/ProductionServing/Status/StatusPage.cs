using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace ProductionServing.Status;

/// <summary>
/// The status page: one HTML document with its style and script inline (<c>StatusPage.html</c>, embedded
/// in the assembly), so it needs nothing from outside and works offline. It fetches
/// <c>status.json</c> every 1.5 seconds and asks <c>match</c> from its search box.
/// </summary>
/// <remarks>
/// The Content-Security-Policy admits exactly this page's one inline style and one inline script by their
/// SHA-256 hashes (CSP Level 3, "hash-source"), which is stricter than <c>'unsafe-inline'</c>: an
/// injected script or style would not run. Fetches may go to the page's own origin only, images only as
/// <c>data:</c> URLs (the page's icon), and nothing else (frames, forms, other origins) is allowed.
/// </remarks>
internal static class StatusPage
{
    public static readonly StringValues ContentType = "text/html; charset=utf-8";

    private static readonly (byte[] Bytes, string Policy) Page = Load();

    public static ReadOnlyMemory<byte> Bytes => Page.Bytes;

    public static readonly StringValues ContentSecurityPolicy = Page.Policy;

    private static (byte[] Bytes, string Policy) Load()
    {
        using var stream = typeof(StatusPage).Assembly.GetManifestResourceStream("ProductionServing.Status.StatusPage.html")
            ?? throw new InvalidOperationException("The status page's HTML is not embedded in the assembly.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var bytes = memory.ToArray();
        var html = Encoding.UTF8.GetString(bytes);
        var policy = "default-src 'none'; script-src " + HashOf(html, "script") + "; style-src " + HashOf(html, "style")
            + "; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        return (bytes, policy);
    }

    /// <summary>The CSP hash-source of the one <c>&lt;tag&gt;</c> element's content (the exact characters between the tags).</summary>
    private static string HashOf(string html, string tag)
    {
        var open = "<" + tag + ">";
        var start = html.IndexOf(open, StringComparison.Ordinal) + open.Length;
        var end = html.IndexOf("</" + tag + ">", start, StringComparison.Ordinal);
        if (start < open.Length || end < 0)
        {
            throw new InvalidOperationException($"The status page has no <{tag}> element.");
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(html[start..end]));
        return "'sha256-" + Convert.ToBase64String(hash) + "'";
    }
}
