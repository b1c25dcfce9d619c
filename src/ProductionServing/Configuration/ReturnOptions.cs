namespace ProductionServing;

/// <summary>
/// A location that answers by itself (nginx <c>return</c>): a redirect, or a fixed status with an
/// optional body. Exclusive with <see cref="LocationOptions.Static"/>, <see cref="LocationOptions.Proxy"/>
/// and <see cref="LocationOptions.App"/>.
/// </summary>
/// <remarks>
/// <see cref="Location"/> and <see cref="Body"/> may use variables (<c>$host</c>, <c>$request_uri</c>,
/// <c>$1</c>…), expanded per request. Every method gets the same answer; HEAD gets it without the body.
/// </remarks>
public sealed class ReturnOptions
{
    /// <summary>The status code, 200–599. Required.</summary>
    public int Status { get; set; }

    /// <summary>
    /// Where a 301, 302, 303, 307 or 308 points (the <c>Location</c> header), a variable template such as
    /// <c>https://$host$request_uri</c>. Required for those statuses and not allowed for the others.
    /// Default: <see langword="null"/>.
    /// </summary>
    public string? Location { get; set; }

    /// <summary>The body of a status that is not a redirect, a variable template. Default: <see langword="null"/> (no body).</summary>
    public string? Body { get; set; }

    /// <summary>The <c>Content-Type</c> of <see cref="Body"/>. Default: <c>text/plain; charset=utf-8</c>.</summary>
    public string ContentType { get; set; } = "text/plain; charset=utf-8";
}
