namespace ProductionServing;

/// <summary>The live status page (pools, upstreams with health, cache, request rates).</summary>
public sealed class StatusOptions
{
    /// <summary>
    /// The path of the HTML status page; the same data is served as JSON at
    /// <c>&lt;Path&gt;/status.json</c>. Must start with <c>/</c>. Default: <see langword="null"/> (off).
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// The client networks that may see the status page, as addresses or CIDR ranges (<c>10.0.0.0/8</c>,
    /// <c>fd00::/8</c>); anyone else gets 404, as if it did not exist. Default: loopback only
    /// (<c>127.0.0.0/8</c> and <c>::1</c>). An IPv4-mapped IPv6 client address is compared as IPv4.
    /// </summary>
    public IList<string> Allow { get; set; } = new List<string> { "127.0.0.0/8", "::1" };
}
