namespace ProductionServing;

/// <summary>
/// Compression of a location's responses (nginx <c>gzip on</c>, plus Brotli). In JSON, <c>"Compress": true</c>
/// is this with its defaults.
/// </summary>
/// <remarks>
/// Brotli or gzip as the client prefers (<c>Accept-Encoding</c> q-values; <c>br</c> on a tie), with
/// <c>Vary: Accept-Encoding</c> and a distinct ETag per coding. Static files in the hot cache are
/// compressed once, when loaded; a precompressed sidecar (<c>x.br</c>, <c>x.gz</c>) still wins, and files not held in
/// memory (over <see cref="FileCacheOptions.MaxFileSize"/>, or the cache full) are sent uncompressed. Streamed app
/// and proxy responses are compressed as they flow. Never compressed: a response with a
/// <c>Content-Encoding</c>, <c>Cache-Control: no-transform</c>, a range response, 1xx, 204, 304, or a body
/// shorter than <see cref="MinLength"/> when its length is known.
/// </remarks>
public sealed class CompressOptions
{
    /// <summary>
    /// Media types to compress; <c>text/*</c> takes every text type. Default: <c>text/*</c>,
    /// <c>application/json</c>, <c>application/javascript</c>, <c>application/xml</c>, <c>image/svg+xml</c>,
    /// <c>application/wasm</c>.
    /// </summary>
    public IList<string> Types { get; set; } =
        ["text/*", "application/json", "application/javascript", "application/xml", "image/svg+xml", "application/wasm"];

    /// <summary>The smallest body, in bytes, worth compressing when its length is known. Default: 256.</summary>
    public int MinLength { get; set; } = 256;
}
