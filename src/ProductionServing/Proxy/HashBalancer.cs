using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// Consistent hashing (nginx <c>hash … consistent</c>, ketama): each server owns 160 points per unit of
/// weight on a 64-bit ring, placed by hashing its address; a key goes to the first point at or after
/// its hash. Adding or removing one server of N moves only the keys of that server's points, about
/// 1/N. A key whose server cannot take the request walks on round the ring to the next one.
/// </summary>
/// <remarks>
/// A request without a key (no such header or cookie) is balanced by round robin, as nginx does, rather
/// than all landing on the server that owns the hash of "".
/// </remarks>
internal sealed class HashBalancer : Balancer
{
    private const int PointsPerWeight = 160;

    /// <summary>Above this many servers the ring walk's "seen" set goes on the heap instead of the stack.</summary>
    private const int MaxStackServers = 256;

    private readonly HashKey _key;
    private readonly ulong[] _points;
    private readonly int[] _owners;
    private readonly RoundRobinBalancer _keyless;

    public HashBalancer(UpstreamServer[] servers, HashKey key)
        : base(servers)
    {
        _key = key;
        _keyless = new RoundRobinBalancer(servers);
        var count = 0;
        foreach (var server in servers)
        {
            count += server.Weight * PointsPerWeight;
        }

        _points = new ulong[count];
        _owners = new int[count];
        var next = 0;
        for (var i = 0; i < servers.Length; i++)
        {
            // Keyed by the address, not the position, so a server keeps its points when others change.
            var name = servers[i].Name;
            for (var p = 0; p < servers[i].Weight * PointsPerWeight; p++)
            {
                _points[next] = HashKey.Hash(name + "-" + p.ToString(CultureInfo.InvariantCulture));
                _owners[next] = i;
                next++;
            }
        }

        Array.Sort(_points, _owners);
    }

    public override BalancingPolicy Policy => BalancingPolicy.Hash;

    /// <summary>Determined for a <c>$uri</c> key (the path is the key); other keys come from a request that does not exist here.</summary>
    public override bool TryPeek(string path, long now, out UpstreamServer? server)
    {
        if (!_key.TryComputeFromPath(path, out var hash))
        {
            server = null;
            return false;
        }

        var start = Array.BinarySearch(_points, hash);
        if (start < 0)
        {
            start = ~start;
        }

        var owner = _owners[start % _points.Length];
        server = IsCandidate(Servers[owner], null, now) ? Servers[owner] : WalkOn(start, null, now);
        return true;
    }

    public override UpstreamServer? Pick(HttpContext context, string path, List<UpstreamServer>? tried, long now)
    {
        if (!_key.TryCompute(context, path, out var hash))
        {
            return _keyless.Pick(context, path, tried, now);
        }

        var start = Array.BinarySearch(_points, hash);
        if (start < 0)
        {
            start = ~start;
        }

        var servers = Servers;
        var owner = _owners[start % _points.Length];
        if (IsCandidate(servers[owner], tried, now))
        {
            return servers[owner];
        }

        return WalkOn(start, tried, now);
    }

    /// <summary>The ring walk past an unavailable owner, stopping once every server was looked at.</summary>
    private UpstreamServer? WalkOn(int start, List<UpstreamServer>? tried, long now)
    {
        var servers = Servers;
        Span<bool> seen = servers.Length <= MaxStackServers ? stackalloc bool[servers.Length] : new bool[servers.Length];
        var unseen = servers.Length;
        for (var n = 0; n < _points.Length && unseen > 0; n++)
        {
            var owner = _owners[(start + n) % _points.Length];
            if (seen[owner])
            {
                continue;
            }

            if (IsCandidate(servers[owner], tried, now))
            {
                return servers[owner];
            }

            seen[owner] = true;
            unseen--;
        }

        return null;
    }
}
