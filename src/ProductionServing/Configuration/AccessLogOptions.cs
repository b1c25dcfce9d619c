namespace ProductionServing;

/// <summary>
/// The access log (nginx <c>access_log</c>): one line per request, in nginx's <c>combined</c> format
/// followed by ProductionServing's timing and upstream fields, or as JSON. Off unless configured.
/// </summary>
/// <remarks>
/// A location with <see cref="LocationOptions.AccessLog"/> <see langword="false"/> is not logged (nginx
/// <c>access_log off</c>). docs/observability.md, "Access log", gives the exact format.
/// </remarks>
public sealed class AccessLogOptions
{
    /// <summary>
    /// <c>combined</c> (nginx's format plus <c>rt=</c>, <c>ua=</c>, <c>us=</c>, <c>urt=</c>, <c>loc=</c>) or
    /// <c>json</c> (one JSON object per line with the same fields). Default: <c>combined</c>.
    /// </summary>
    public string Format { get; set; } = "combined";

    /// <summary>
    /// A file to append the lines to, relative to the content root, written by a background writer that
    /// never blocks a request. Default: <see langword="null"/>: the lines are logged at Information on the
    /// category <c>ProductionServing.AccessLog</c>.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// How many lines the file writer holds while the disk is behind; when it is full, new lines are dropped
    /// and counted (<c>production_serving.access_log.dropped</c>). Default: 16384 lines. Used only with <see cref="Path"/>.
    /// </summary>
    public int BufferSize { get; set; } = 16384;
}
