namespace ProductionServing;

/// <summary>The live status page (pools, upstreams with health, cache, request rates).</summary>
public sealed class StatusOptions
{
    /// <summary>
    /// The path of the HTML status page; the same data is served as JSON at
    /// <c>&lt;Path&gt;/status.json</c>. Must start with <c>/</c>. Default: <see langword="null"/> (off).
    /// </summary>
    public string? Path { get; set; }
}
