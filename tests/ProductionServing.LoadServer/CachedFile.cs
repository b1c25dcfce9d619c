using Microsoft.Extensions.Primitives;

namespace ProductionServing.LoadServer;

/// <summary>
/// A small file read once at startup, with every header value the ceiling endpoint sends
/// prebuilt, so a request costs only Kestrel's own work.
/// </summary>
internal sealed class CachedFile(byte[] bytes, string contentType, string etag, string lastModified)
{
    public byte[] Bytes { get; } = bytes;

    public StringValues ContentType { get; } = contentType;

    public string ETagText { get; } = etag;

    public StringValues ETag { get; } = etag;

    public StringValues LastModified { get; } = lastModified;
}
