using System.Collections.Frozen;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace ProductionServing.Directives;

/// <summary>
/// A location's <c>Compress</c>, compiled: which media types are compressed and from what length. Compared
/// by value, because it is part of a static location's <see cref="Static.FileLookupKey"/>: a reload that keeps
/// a location's settings keeps its cached files and their compressed copies, and a location without
/// <c>Compress</c> never shares a cache holding them.
/// </summary>
internal sealed class CompressPolicy : IEquatable<CompressPolicy>
{
    /// <summary>The exact types (<c>application/json</c>), lower case.</summary>
    private readonly FrozenSet<string> _types;

    /// <summary>The alternate lookup of <see cref="_types"/>, so a response's type is matched on a span of its header.</summary>
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _typesBySpan;

    /// <summary>The top-level types given as <c>type/*</c>, with their slash (<c>text/</c>), lower case.</summary>
    private readonly string[] _wildcards;

    /// <summary>The types as given, normalized and sorted: what equality compares.</summary>
    private readonly string _key;

    private CompressPolicy(string[] types, string[] wildcards, int minLength)
    {
        _types = types.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _typesBySpan = _types.GetAlternateLookup<ReadOnlySpan<char>>();
        _wildcards = wildcards;
        MinLength = minLength;
        _key = string.Join(',', [.. types, .. wildcards]);
    }

    /// <summary>The smallest body compressed when its length is known, in bytes (nginx <c>gzip_min_length</c>).</summary>
    public int MinLength { get; }

    /// <summary>Compiles validated options (see <see cref="Configuration.LocationRules"/>).</summary>
    public static CompressPolicy Compile(CompressOptions options)
    {
        var types = new SortedSet<string>(StringComparer.Ordinal);
        var wildcards = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in options.Types)
        {
            var normalized = type.Trim().ToLowerInvariant();
            if (normalized.EndsWith("/*", StringComparison.Ordinal))
            {
                wildcards.Add(normalized[..^1]);
            }
            else
            {
                types.Add(normalized);
            }
        }

        return new CompressPolicy([.. types], [.. wildcards], options.MinLength);
    }

    /// <summary>
    /// Whether a body of <paramref name="contentType"/> is compressed: its media type, without parameters and
    /// case-insensitively (RFC 9110 §8.3.1), is listed or falls under a listed <c>type/*</c>.
    /// </summary>
    public bool Compresses(StringValues contentType)
    {
        if (contentType.Count != 1 || contentType[0] is not { } value)
        {
            return false;
        }

        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon < 0 ? value.AsSpan() : value.AsSpan(0, semicolon)).Trim(" \t");
        if (_typesBySpan.Contains(mediaType))
        {
            return true;
        }

        foreach (var wildcard in _wildcards)
        {
            if (mediaType.Length > wildcard.Length && mediaType.StartsWith(wildcard, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <c>Cache-Control</c> carries <c>no-transform</c> (RFC 9110 §7.7, RFC 9111 §5.2.2.6): an intermediary
    /// must not change the content, and a server's own compression filter honours it too.
    /// </summary>
    public static bool ForbidsTransform(StringValues cacheControl)
    {
        for (var i = 0; i < cacheControl.Count; i++)
        {
            if (cacheControl[i] is { } value && value.Contains("no-transform", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The location's compression, or null when it has none or when its <c>Headers</c> give every response a
    /// <c>Cache-Control</c> with <c>no-transform</c>: those are set as the response starts, after compression was
    /// decided, so they are read here (in nginx, add_header runs before the gzip filter, which then sees them).
    /// </summary>
    public static CompressPolicy? For(LocationOptions location)
    {
        if (location.Compress is not { } options)
        {
            return null;
        }

        foreach (var (name, value) in location.Headers)
        {
            if (name.Equals(HeaderNames.CacheControl, StringComparison.OrdinalIgnoreCase) && ForbidsTransform(value))
            {
                return null;
            }
        }

        return Compile(options);
    }

    /// <summary>Whether a body of <paramref name="length"/> bytes is long enough to compress.</summary>
    public bool IsLongEnough(long length) => length >= MinLength;

    public bool Equals(CompressPolicy? other) =>
        other is not null && MinLength == other.MinLength && string.Equals(_key, other._key, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as CompressPolicy);

    public override int GetHashCode() => HashCode.Combine(_key, MinLength);
}
