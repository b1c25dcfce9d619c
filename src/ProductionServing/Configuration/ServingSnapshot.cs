using System.Text.Json;
using ProductionServing.Routing;

namespace ProductionServing.Configuration;

/// <summary>
/// A validated configuration compiled for the request path: the location matcher and the handlers.
/// Immutable and shared by all requests; a reload swaps in a new one.
/// </summary>
internal sealed class ServingSnapshot
{
    private readonly string _fingerprint;

    private ServingSnapshot(string fingerprint, LocationMatcher matcher, Location unmatched, int locationCount)
    {
        _fingerprint = fingerprint;
        Matcher = matcher;
        Unmatched = unmatched;
        LocationCount = locationCount;
    }

    public LocationMatcher Matcher { get; }

    /// <summary>Where a request that matches no location goes: the app through the default pool.</summary>
    public Location Unmatched { get; }

    public int LocationCount { get; }

    /// <summary>Compiles validated options.</summary>
    public static ServingSnapshot Compile(ProductionServingOptions options)
    {
        var locations = new List<Location>(options.Locations.Count);
        for (var i = 0; i < options.Locations.Count; i++)
        {
            var location = options.Locations[i];
            if (!LocationPattern.TryParse(location.Match, out var pattern, out var problem))
            {
                throw new InvalidOperationException($"Locations[{i}].Match: {problem}");
            }

            var handler = location.Static is not null ? ServingHandler.Static
                : location.Proxy is not null ? ServingHandler.Proxy
                : ServingHandler.App;
            var pool = handler == ServingHandler.App ? location.App!.Pool : null;
            locations.Add(new Location(pattern, location.Internal, new ServingLocation(i, location.Match, handler, pool)));
        }

        var unmatched = new Location(new LocationPattern(LocationKind.Prefix, "/"), isInternal: false,
            new ServingLocation(-1, match: null, ServingHandler.App, PoolOptions.DefaultPoolName));
        return new ServingSnapshot(Fingerprint(options), new LocationMatcher(locations), unmatched, locations.Count);
    }

    /// <summary>Whether <paramref name="options"/> are the ones this snapshot was compiled from (file watchers fire twice per save).</summary>
    public bool IsBuiltFrom(ProductionServingOptions options) => _fingerprint == Fingerprint(options);

    private static string Fingerprint(ProductionServingOptions options) => JsonSerializer.Serialize(options);
}
