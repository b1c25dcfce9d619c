using System.Net;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// The request value a Hash group is keyed on: <c>$remote_addr</c>, <c>$uri</c> (the normalized path),
/// <c>$http_&lt;name&gt;</c> (a request header) or <c>$cookie_&lt;name&gt;</c>, hashed with 64-bit FNV-1a.
/// A missing header or cookie hashes as the empty string, as nginx's empty variable does.
/// </summary>
internal sealed class HashKey
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    private readonly Kind _kind;
    private readonly string _name;

    private HashKey(Kind kind, string name)
    {
        _kind = kind;
        _name = name;
    }

    private enum Kind
    {
        RemoteAddress,
        Uri,
        Header,
        Cookie,
    }

    /// <summary>Parses a key the validator accepted.</summary>
    public static HashKey Parse(string key) => key switch
    {
        "$remote_addr" => new HashKey(Kind.RemoteAddress, string.Empty),
        "$uri" => new HashKey(Kind.Uri, string.Empty),
        _ when key.StartsWith("$http_", StringComparison.Ordinal) => new HashKey(Kind.Header, key["$http_".Length..].Replace('_', '-')),
        _ => new HashKey(Kind.Cookie, key["$cookie_".Length..]),
    };

    /// <summary>The 64-bit hash of this request's key.</summary>
    public ulong Compute(HttpContext context, string path)
    {
        switch (_kind)
        {
            case Kind.RemoteAddress:
                Span<byte> address = stackalloc byte[16];
                return context.Connection.RemoteIpAddress is { } ip && ip.TryWriteBytes(address, out var written)
                    ? Hash(address[..written])
                    : Hash(ReadOnlySpan<byte>.Empty);
            case Kind.Uri:
                return Hash(path);
            case Kind.Header:
                return Hash(context.Request.Headers[_name].ToString());
            default:
                return Hash(context.Request.Cookies[_name]);
        }
    }

    /// <summary>64-bit FNV-1a over UTF-16 code units, with a final avalanche so nearby keys spread over the ring.</summary>
    public static ulong Hash(ReadOnlySpan<char> text)
    {
        var hash = FnvOffset;
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * FnvPrime;
            hash = (hash ^ (byte)(c >> 8)) * FnvPrime;
        }

        return Mix(hash);
    }

    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        var hash = FnvOffset;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * FnvPrime;
        }

        return Mix(hash);
    }

    // The finalizer of MurmurHash3 (fmix64).
    private static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccd;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53;
        return h ^ (h >> 33);
    }
}
