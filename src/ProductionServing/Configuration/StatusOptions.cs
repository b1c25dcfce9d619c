namespace ProductionServing;

/// <summary>
/// The live status page: pools, upstream servers with their health, the file cache, request rates and
/// status classes by location, recent errors, and which location a path selects.
/// </summary>
/// <remarks>
/// It is matched before every location, and only for the clients <see cref="Allow"/> lists; for anyone
/// else its paths go on to the locations as if it did not exist. Its own requests are not counted in the
/// metrics. While it is configured, every request keeps a record of where its time went.
/// </remarks>
public sealed class StatusOptions
{
    /// <summary>
    /// The path of the HTML status page, served at <c>&lt;Path&gt;</c> and <c>&lt;Path&gt;/</c>; its data is
    /// <c>&lt;Path&gt;/status.json</c>, and <c>&lt;Path&gt;/match?path=/some/url</c> explains which location a
    /// path selects. Required when <c>Status</c> is present; a plain decoded path starting with <c>/</c>, without
    /// a trailing <c>/</c> (<c>/_serving</c>). Default: <see langword="null"/>.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// The client networks that may see the status page, as addresses or CIDR ranges (<c>10.0.0.0/8</c>,
    /// <c>fd00::/8</c>); anyone else gets 404, as if it did not exist. Default: loopback only
    /// (<c>127.0.0.0/8</c> and <c>::1</c>). An IPv4-mapped IPv6 client address is compared as IPv4.
    /// </summary>
    public IList<string> Allow { get; set; } = new List<string> { "127.0.0.0/8", "::1" };
}
