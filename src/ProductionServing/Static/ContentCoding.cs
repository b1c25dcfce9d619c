namespace ProductionServing.Static;

/// <summary>The content coding of the file a static response sends (RFC 9110 §8.4.1).</summary>
internal enum ContentCoding
{
    /// <summary>The file itself, with no <c>Content-Encoding</c>.</summary>
    Identity,

    /// <summary>The <c>.gz</c> sidecar, sent with <c>Content-Encoding: gzip</c>.</summary>
    Gzip,

    /// <summary>The <c>.br</c> sidecar, sent with <c>Content-Encoding: br</c>.</summary>
    Brotli,
}
