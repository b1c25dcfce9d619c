using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// Consistent hashing (nginx <c>hash … consistent</c>, ketama): each server owns 160 points per unit of
/// weight on a 64-bit ring, placed by hashing its address; a key goes to the first point at or after
/// its hash. Adding or removing one server of N moves only the keys of that server's points, about
/// 1/N. A key whose server cannot take the request walks on round the ring to the next one.
/// </summary>
internal sealed class HashBalancer : Balancer
{
    private const int PointsPerWeight = 160;

    private readonly HashKey _key;
    private readonly ulong[] _points;
    private readonly int[] _owners;

    public HashBalancer(UpstreamServer[] servers, HashKey key)
        : base(servers)
    {
        _key = key;
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
                _points[next] = HashKey.Hash(name + "-" + p.ToString(System.Globalization.CultureInfo.InvariantCulture));
                _owners[next] = i;
                next++;
            }
        }

        Array.Sort(_points, _owners);
    }

    public override UpstreamServer? Pick(HttpContext context, string path, List<UpstreamServer>? tried, long now)
    {
        var hash = _key.Compute(context, path);
        var start = Array.BinarySearch(_points, hash);
        if (start < 0)
        {
            start = ~start;
        }

        for (var n = 0; n < _points.Length; n++)
        {
            var server = Servers[_owners[(start + n) % _points.Length]];
            if (IsCandidate(server, tried, now))
            {
                return server;
            }
        }

        return null;
    }
}
