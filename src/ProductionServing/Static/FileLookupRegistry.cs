using Microsoft.Extensions.Logging;

namespace ProductionServing.Static;

/// <summary>
/// The static locations' files, kept across reloads: a location whose lookup settings did not change
/// (folder, alias prefix, hidden files, sidecars, default type, cacheable size, compression) gets the same
/// <see cref="FileLookup"/>, with its cached files and its folder's watch, so a reload that touches
/// another location does not empty the cache (which under load would send every request to the disk
/// at once). Lookups the new configuration no longer uses stop watching and give their memory back.
/// </summary>
/// <remarks>
/// Builds are not concurrent: the configuration holder compiles one at a time. A build takes lookups
/// with <see cref="Get"/>, then either <see cref="Commit"/>s (the new configuration is in force) or
/// <see cref="Abort"/>s (it failed to compile: the lookups it created stop again).
/// </remarks>
internal sealed class FileLookupRegistry(FileCacheBudget budget, TimeProvider time, ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<StaticHandler>();
    private Dictionary<FileLookupKey, FileLookup> _inForce = [];
    private readonly Dictionary<FileLookupKey, FileLookup> _building = [];

    /// <summary>The lookup for <paramref name="key"/> in the configuration being built: the one in force, or a new one.</summary>
    public FileLookup Get(FileLookupKey key)
    {
        if (!_building.TryGetValue(key, out var lookup))
        {
            lookup = _inForce.TryGetValue(key, out var kept) ? kept
                : new FileLookup(key.Folder, key.AliasPrefix, key.AllowHiddenFiles, key.Precompressed, key.DefaultContentType, budget,
                    key.MaxCachedFileSize, key.Compress, time, _logger);
            _building.Add(key, lookup);
        }

        return lookup;
    }

    /// <summary>The configuration built is in force: the lookups it does not use are retired.</summary>
    public void Commit()
    {
        foreach (var (key, lookup) in _inForce)
        {
            if (!_building.ContainsKey(key))
            {
                lookup.Clear();
            }
        }

        _inForce = new Dictionary<FileLookupKey, FileLookup>(_building);
        _building.Clear();
    }

    /// <summary>The configuration built failed: the lookups it created are retired, those in force stay.</summary>
    public void Abort()
    {
        foreach (var (key, lookup) in _building)
        {
            if (!_inForce.ContainsKey(key))
            {
                lookup.Clear();
            }
        }

        _building.Clear();
    }

    /// <summary>The host stops: every lookup stops watching.</summary>
    public void Clear()
    {
        Abort();
        foreach (var lookup in _inForce.Values)
        {
            lookup.Clear();
        }

        _inForce.Clear();
    }
}
