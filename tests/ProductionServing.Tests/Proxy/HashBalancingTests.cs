using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Proxy.TestGroups;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Consistent hashing on <c>HashKey</c>: a key sticks to its server, a change of servers moves only
/// about 1/N of the keys, keys spread evenly, and a request without a key is balanced by round robin.
/// Ring tests hash <c>$uri</c> over fixed addresses, so their numbers are the same on every run.
/// </summary>
public sealed class HashBalancingTests
{
    private const int Keys = 10_000;

    private static readonly HttpContext AnyRequest = new DefaultHttpContext();

    // nginx-tests upstream_hash.t "stable hash - consistent": one key, one server, every time.
    [Fact]
    public void SameKey_AlwaysGoesToTheSameServer()
    {
        var ring = Ring(Servers(5));
        var first = Owners(ring);

        Assert.Equal(first, Owners(ring));
    }

    // nginx-tests upstream_hash.t "consistent": only requests for the absent peer move. Adding one
    // server to N moves about 1/(N+1) of the keys, and each moved key moves to the new server.
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(9)]
    public void AddingAServer_MovesAboutItsShareOfKeys_AllToTheNewServer(int before)
    {
        var servers = Servers(before + 1);
        var old = Owners(Ring(servers[..before]));
        var now = Owners(Ring(servers));

        var moved = 0;
        for (var key = 0; key < Keys; key++)
        {
            if (!ReferenceEquals(old[key], now[key]))
            {
                Assert.Same(servers[before], now[key]);
                moved++;
            }
        }

        AssertShare(moved, 1.0 / (before + 1));
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(5, 2)]
    [InlineData(10, 9)]
    public void RemovingAServer_MovesOnlyItsOwnKeys(int count, int removed)
    {
        var servers = Servers(count);
        var old = Owners(Ring(servers));
        var now = Owners(Ring([.. servers.Where((_, i) => i != removed)]));

        var moved = 0;
        for (var key = 0; key < Keys; key++)
        {
            if (ReferenceEquals(old[key], servers[removed]))
            {
                moved++;
            }
            else
            {
                Assert.Same(old[key], now[key]);
            }
        }

        AssertShare(moved, 1.0 / count);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(10)]
    public void Keys_SpreadRoughlyEvenly(int count)
    {
        var servers = Servers(count);
        var owners = Owners(Ring(servers));

        foreach (var server in servers)
        {
            AssertShare(owners.Count(o => ReferenceEquals(o, server)), 1.0 / count);
        }
    }

    // nginx-tests upstream_hash.t "consistent weight": a weight buys points on the ring, so a share.
    [Fact]
    public void Weight_BuysAProportionalShare()
    {
        var options = Weighted(BalancingPolicy.Hash, 1, 1, 3);
        var group = Create(options);
        var ring = Ring([.. group.Servers]);
        var owners = Owners(ring);

        AssertShare(owners.Count(o => ReferenceEquals(o, group.Servers[2])), 3.0 / 5);
        AssertShare(owners.Count(o => ReferenceEquals(o, group.Servers[0])), 1.0 / 5);
    }

    // A key whose server is out walks on round the ring; no other key moves, and none comes back
    // different once the server is back.
    [Fact]
    public void KeyWhoseServerIsDown_GoesToAnotherServer_AndNoOtherKeyMoves()
    {
        var time = new FakeTimeProvider();
        var options = Weighted(BalancingPolicy.Hash, 1, 1, 1, 1);
        var group = Create(options, time);
        var before = GroupOwners(group);

        TakeOut(group.Servers[1], time);
        var during = GroupOwners(group);
        time.Advance(options.FailTimeout);
        var after = GroupOwners(group);

        for (var key = 0; key < before.Length; key++)
        {
            if (ReferenceEquals(before[key], group.Servers[1]))
            {
                Assert.NotSame(group.Servers[1], during[key]);
            }
            else
            {
                Assert.Same(before[key], during[key]);
            }
        }

        Assert.Equal(before, after);
    }

    // nginx-tests upstream_hash.t "empty key - consistent" (nginx 1.17.1+): six requests without the
    // key over three servers are two each, by round robin, not six on the owner of "".
    [Fact]
    public void RequestWithoutTheKey_IsBalancedByRoundRobin()
    {
        var group = Create(Weighted(BalancingPolicy.Hash, 1, 1, 1));

        Assert.Equal("abcabc", Sequence(group, 6));
    }

    // Two requests, and whether the key gives them the same hash. Request lines: "Name: value" headers,
    // plus "ip: <address>" for the connection's remote address.
    [Theory]
    [InlineData("$http_x_user", "X-User: alice", "X-User: alice\nX-Other: 1", true)]
    [InlineData("$http_x_user", "X-User: alice", "x-user: alice", true)]
    [InlineData("$http_x_user", "X-User: alice", "X-User: bob", false)]
    [InlineData("$http_x_forwarded_for", "X-Forwarded-For: 1.2.3.4", "X-Forwarded-For: 1.2.3.4", true)]
    [InlineData("$cookie_sid", "Cookie: sid=1; theme=dark", "Cookie: theme=light; sid=1", true)]
    [InlineData("$cookie_sid", "Cookie: sid=1", "Cookie: sid=2", false)]
    [InlineData("$remote_addr", "ip: 10.0.0.1", "ip: 10.0.0.1\nX-User: bob", true)]
    [InlineData("$remote_addr", "ip: 10.0.0.1", "ip: 10.0.0.2", false)]
    [InlineData("$remote_addr", "ip: ::1", "ip: ::1", true)]
    public void HashKey_ReadsItsPartOfTheRequest(string key, string a, string b, bool same)
    {
        var hashKey = HashKey.Parse(key);

        Assert.True(hashKey.TryCompute(Request(a), "/", out var hashA));
        Assert.True(hashKey.TryCompute(Request(b), "/", out var hashB));
        Assert.Equal(same, hashA == hashB);
    }

    [Theory]
    [InlineData("$http_x_user", "X-Other: 1")]
    [InlineData("$http_x_user", "X-User: ")]
    [InlineData("$cookie_sid", "Cookie: theme=dark")]
    [InlineData("$cookie_sid", "")]
    [InlineData("$remote_addr", "")]
    public void HashKey_MissingOrEmpty_HasNoHash(string key, string request)
    {
        Assert.False(HashKey.Parse(key).TryCompute(Request(request), "/", out _));
    }

    [Fact]
    public void HashKey_Uri_IsTheNormalizedPath()
    {
        var key = HashKey.Parse("$uri");

        Assert.True(key.TryCompute(Request("X-User: a"), "/a/b", out var a));
        Assert.True(key.TryCompute(Request("X-User: b"), "/a/b", out var b));
        Assert.True(key.TryCompute(AnyRequest, "/a/c", out var c));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void HashKey_OfSeveralVariables_HashesTheirExpansion_AndIsEmptyOnlyWhenAllAre()
    {
        var key = HashKey.Parse("$http_x_user:$cookie_session");

        Assert.True(key.TryCompute(Request("X-User: a"), "/", out var a));
        Assert.True(key.TryCompute(Request("X-User: a"), "/other", out var again));
        Assert.True(key.TryCompute(Request("X-User: b"), "/", out var b));
        Assert.Equal(a, again);
        Assert.NotEqual(a, b);
        Assert.Equal(HashKey.Hash("a:"), a);

        // ":" alone is not empty: nginx hashes whatever the template expands to.
        Assert.True(key.TryCompute(AnyRequest, "/", out _));
        Assert.False(HashKey.Parse("$http_x_user$cookie_session").TryCompute(AnyRequest, "/", out _));
    }

    [Fact]
    public async Task HashOnAHeader_SendsEachUserToOneUpstream_AndUsersToEveryUpstream()
    {
        await using var a = await UpstreamHost.NamedAsync("a");
        await using var b = await UpstreamHost.NamedAsync("b");
        await using var c = await UpstreamHost.NamedAsync("c");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { "Balancing": "Hash", "HashKey": "$http_x_user",
              "Servers": [ {{ServingJson.Server(a.Address)}}, {{ServingJson.Server(b.Address)}}, {{ServingJson.Server(c.Address)}} ] }
            """));

        var seen = new HashSet<string>();
        for (var user = 0; user < 40; user++)
        {
            var first = await GetAsUser(user);
            Assert.Equal(first, await GetAsUser(user));
            Assert.Equal(first, await GetAsUser(user));
            seen.Add(first);
        }

        // The ring depends on the ports, so which user goes where differs by run; with 40 users all three
        // upstreams being used fails only when one owns everything, a chance of about 3 in 10^19.
        Assert.Equal(3, seen.Count);

        async Task<string> GetAsUser(int user)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("X-User", "user" + user.ToString(CultureInfo.InvariantCulture));
            using var response = await host.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }
    }

    [Fact]
    public async Task HashOnACookie_RequestsWithoutItAreSpreadByRoundRobin()
    {
        await using var a = await UpstreamHost.NamedAsync("a");
        await using var b = await UpstreamHost.NamedAsync("b");
        await using var c = await UpstreamHost.NamedAsync("c");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { "Balancing": "Hash", "HashKey": "$cookie_session",
              "Servers": [ {{ServingJson.Server(a.Address)}}, {{ServingJson.Server(b.Address)}}, {{ServingJson.Server(c.Address)}} ] }
            """));

        var answers = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add(await host.Client.GetStringAsync("/"));
        }

        Assert.Equal(["a", "b", "c", "a", "b", "c"], answers);
    }

    private static UpstreamServer[] Servers(int count)
    {
        var servers = new UpstreamServer[count];
        for (var i = 0; i < count; i++)
        {
            servers[i] = new UpstreamServer("test", new Uri($"http://10.0.{i / 200}.{(i % 200) + 1}:8080"));
        }

        return servers;
    }

    private static HashBalancer Ring(UpstreamServer[] servers) => new(servers, HashKey.Parse("$uri"));

    /// <summary>The server of each of the keys /k0 … /k9999.</summary>
    private static UpstreamServer[] Owners(HashBalancer ring)
    {
        var owners = new UpstreamServer[Keys];
        for (var key = 0; key < Keys; key++)
        {
            owners[key] = ring.Pick(AnyRequest, Path(key), tried: null, now: 0)!;
        }

        return owners;
    }

    /// <summary>The servers the group gives 2,000 keys (sent as X-Key, the key of <see cref="TestGroups.Weighted"/>).</summary>
    private static UpstreamServer[] GroupOwners(UpstreamGroup group)
    {
        var owners = new UpstreamServer[2_000];
        for (var key = 0; key < owners.Length; key++)
        {
            var (server, _) = Acquire(group, Request("X-Key: " + Path(key)));
            owners[key] = server!;
            group.Release(server!);
        }

        return owners;
    }

    private static string Path(int key) => "/k" + key.ToString(CultureInfo.InvariantCulture);

    /// <summary>Within a quarter of the expected share either way (the ring's 160 points per server keep it well inside).</summary>
    private static void AssertShare(int count, double expected)
    {
        var share = (double)count / Keys;
        Assert.InRange(share, expected * 0.75, expected * 1.25);
    }

    private static DefaultHttpContext Request(string lines)
    {
        var context = new DefaultHttpContext();
        foreach (var line in lines.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim();
            if (name == "ip")
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(value);
                context.Connection.RemotePort = 40_000 + lines.Length;
            }
            else
            {
                context.Request.Headers.Append(name, value);
            }
        }

        return context;
    }
}
