using Microsoft.AspNetCore.Http;
using ProductionServing.Directives;

namespace ProductionServing.Proxy;

/// <summary>
/// The request value a Hash group is keyed on (<c>HashKey</c>, a variable template such as <c>$remote_addr</c>,
/// <c>$uri</c>, <c>$http_x_user</c> or <c>$cookie_session</c>), hashed with 64-bit FNV-1a.
/// </summary>
/// <remarks>
/// A missing or empty value has no hash: nginx (since 1.17.1, nginx-tests upstream_hash.t "empty key")
/// balances such requests by round robin. Hashing them as "" instead would send every request without
/// the cookie, say every first visit, to one server. <c>$remote_addr</c> alone is hashed from the address's
/// bytes and one variable from the request's own string, so neither allocates.
/// </remarks>
internal sealed class HashKey
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    private readonly VariableTemplate _template;

    private HashKey(VariableTemplate template) => _template = template;

    /// <summary>Parses a key the validator accepted (an upstream has no location, so no captures).</summary>
    public static HashKey Parse(string key) => new(VariableTemplate.Parse(key, captures: 0));

    /// <summary>The 64-bit hash of this request's key; false when the key is missing or empty.</summary>
    /// <param name="context">The request whose header, cookie or address is the key.</param>
    /// <param name="path">The request's normalized path, for <c>$uri</c>.</param>
    /// <param name="hash">The key's hash, or 0 when there is no key.</param>
    /// <returns>Whether the request has a non-empty key.</returns>
    public bool TryCompute(HttpContext context, string path, out ulong hash)
    {
        if (_template.IsRemoteAddress)
        {
            Span<byte> address = stackalloc byte[16];
            if (context.Connection.RemoteIpAddress is { } ip && ip.TryWriteBytes(address, out var written))
            {
                hash = Hash(address[..written]);
                return true;
            }

            hash = 0;
            return false;
        }

        return TryHash(_template.Expand(new VariableScope(context, path, captures: null)), out hash);
    }

    /// <summary>The hash of a <c>$uri</c> key, which the path alone gives; false for every other key.</summary>
    /// <param name="path">The normalized path.</param>
    /// <param name="hash">The key's hash, or 0.</param>
    /// <returns>Whether the key is <c>$uri</c> (a path is never empty).</returns>
    public bool TryComputeFromPath(string path, out ulong hash)
    {
        if (_template.IsUri)
        {
            return TryHash(path, out hash);
        }

        hash = 0;
        return false;
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

    private static bool TryHash(string? text, out ulong hash)
    {
        if (string.IsNullOrEmpty(text))
        {
            hash = 0;
            return false;
        }

        hash = Hash(text);
        return true;
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
