using System.Buffers.Binary;
using System.Net;

namespace ProductionServing.Directives;

/// <summary>
/// What a <c>RateLimit</c> counts requests per: the client's address as its bytes (the default
/// <c>$remote_addr</c>, nginx's <c>$binary_remote_addr</c>), or the expanded <c>Key</c> template. A value, so
/// that partitioning the default key by address allocates nothing per request: no address string is made.
/// </summary>
internal readonly struct RateLimitKey : IEquatable<RateLimitKey>
{
    private const byte Text = 0;
    private const byte IPv4 = 4;
    private const byte IPv6 = 6;

    private readonly ulong _high;
    private readonly ulong _low;
    private readonly string? _text;
    private readonly byte _kind;

    private RateLimitKey(byte kind, ulong high, ulong low, string? text)
    {
        _kind = kind;
        _high = high;
        _low = low;
        _text = text;
    }

    /// <summary>The key of a client address; false without one (as <c>$remote_addr</c> is then empty, the request is not limited).</summary>
    /// <param name="address">The connection's remote address.</param>
    /// <param name="key">The key, when there is an address.</param>
    /// <returns>Whether there is an address.</returns>
    public static bool TryFromAddress(IPAddress? address, out RateLimitKey key)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address is null || !address.TryWriteBytes(bytes, out var written))
        {
            key = default;
            return false;
        }

        // An IPv4 client of a dual-stack socket is the same client as over IPv4 (Allow and $remote_addr fold it
        // too, docs/directives.md), read from the bytes rather than through MapToIPv4, which allocates.
        if (written == 4 || address.IsIPv4MappedToIPv6)
        {
            key = new RateLimitKey(IPv4, 0, BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(written - 4, 4)), null);
            return true;
        }

        key = new RateLimitKey(IPv6, BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), null);
        return true;
    }

    /// <summary>The key of an expanded template; false when it is empty (nginx does not limit a request whose key is empty).</summary>
    /// <param name="text">The template's value for the request.</param>
    /// <param name="key">The key, when <paramref name="text"/> is not empty.</param>
    /// <returns>Whether there is a key.</returns>
    public static bool TryFromText(string text, out RateLimitKey key)
    {
        key = new RateLimitKey(Text, 0, 0, text);
        return text.Length > 0;
    }

    public bool Equals(RateLimitKey other) =>
        _kind == other._kind && _high == other._high && _low == other._low && string.Equals(_text, other._text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is RateLimitKey other && Equals(other);

    public override int GetHashCode() => _text is { } text ? text.GetHashCode(StringComparison.Ordinal) : HashCode.Combine(_kind, _high, _low);
}
