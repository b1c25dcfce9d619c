namespace ProductionServing;

/// <summary>One server of an upstream group (nginx <c>server</c> inside <c>upstream</c>).</summary>
public sealed class UpstreamServerOptions
{
    /// <summary>
    /// The server's absolute <c>http</c> or <c>https</c> URL with no path, query or fragment, for
    /// example <c>http://127.0.0.1:5001</c>. Required.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>The server's relative share of requests. Default: 1.</summary>
    public int Weight { get; set; } = 1;

    /// <summary>
    /// When <see langword="true"/>, the server is used only while every primary server is down.
    /// Default: <see langword="false"/>.
    /// </summary>
    public bool Backup { get; set; }

    /// <summary>
    /// The most connections open to this server at once (nginx <c>max_conns</c>).
    /// Default: <see langword="null"/> (unlimited).
    /// </summary>
    public int? MaxConnections { get; set; }
}
