using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Proxy.TestGroups;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Which server a request goes to: smooth weighted round robin, least requests, power of two choices,
/// and backups. (Consistent hashing: <see cref="HashBalancingTests"/>.) Servers are a, b, c… in order.
/// </summary>
public sealed class BalancingTests
{
    // nginx's own example, from the commit that brought smooth weighted round robin
    // (ngx_http_upstream_round_robin.c, ngx_http_upstream_get_peer): weights 5 1 1 give "a a b a c a a".
    // The other rows are worked by hand with the same rule: add each weight, take the highest score
    // (the first on a tie), subtract the total from it.
    [Theory]
    [InlineData(new[] { 5, 1, 1 }, "aabacaa" + "aabacaa")]
    [InlineData(new[] { 1, 1, 1 }, "abcabc")]
    [InlineData(new[] { 2, 1 }, "aba" + "aba")]
    [InlineData(new[] { 1, 2 }, "bab" + "bab")]
    [InlineData(new[] { 3, 2 }, "ababa" + "ababa")]
    [InlineData(new[] { 1 }, "aaa")]
    public void RoundRobin_FollowsNginxSmoothWeightedOrder(int[] weights, string expected)
    {
        var group = Create(Weighted(BalancingPolicy.RoundRobin, weights));

        Assert.Equal(expected, Sequence(group, expected.Length));
    }

    [Fact]
    public void RoundRobin_SkipsAServerThatIsDown()
    {
        var time = new FakeTimeProvider();
        var group = Create(Weighted(BalancingPolicy.RoundRobin, 1, 1, 1), time);
        TakeOut(group.Servers[1], time);

        Assert.Equal("acacac", Sequence(group, 6));
    }

    [Fact]
    public void RoundRobin_RetrySkipsTheServerAlreadyTried()
    {
        var group = Create(Weighted(BalancingPolicy.RoundRobin, 1, 1));
        var tried = new List<UpstreamServer> { group.Servers[0] };

        for (var i = 0; i < 4; i++)
        {
            var (server, _) = Acquire(group, tried: tried);
            Assert.Same(group.Servers[1], server);
            group.Release(server!);
        }
    }

    // Weights over sequential requests: every request sees the servers idle, so the choice is the
    // tie-break. nginx breaks least_conn ties by weighted round robin (the "many" branch of
    // ngx_http_upstream_get_least_conn_peer); a plain rotation would split 2:1 weights evenly.
    [Theory]
    [InlineData(BalancingPolicy.RoundRobin)]
    [InlineData(BalancingPolicy.LeastRequests)]
    public void SequentialRequests_SplitExactlyByWeight(BalancingPolicy policy)
    {
        var group = Create(Weighted(policy, 2, 1));

        var sequence = Sequence(group, 300);

        Assert.Equal(200, sequence.Count(c => c == 'a'));
        Assert.Equal(100, sequence.Count(c => c == 'b'));
    }

    // Requests in flight per server before the pick, and the server picked. Ties (equal in flight per
    // weight) go by weighted round robin, which starts with the first of them.
    [Theory]
    [InlineData(new[] { 1, 1, 1 }, new[] { 0, 0, 0 }, 'a')]
    [InlineData(new[] { 1, 1, 1 }, new[] { 1, 0, 0 }, 'b')]
    [InlineData(new[] { 1, 1, 1 }, new[] { 2, 1, 3 }, 'b')]
    [InlineData(new[] { 2, 1 }, new[] { 3, 1 }, 'b')]
    [InlineData(new[] { 2, 1 }, new[] { 2, 1 }, 'a')]
    [InlineData(new[] { 1, 3 }, new[] { 1, 2 }, 'b')]
    public void LeastRequests_PicksTheFewestInFlightPerWeight(int[] weights, int[] inFlight, char expected)
    {
        var group = Create(Weighted(BalancingPolicy.LeastRequests, weights));
        for (var i = 0; i < inFlight.Length; i++)
        {
            for (var n = 0; n < inFlight[i]; n++)
            {
                Assert.True(group.Servers[i].TryAcquire());
            }
        }

        var (server, _) = Acquire(group);

        Assert.Equal(expected, Letter(group, server!));
    }

    // YARP's PickDestination_LeastRequests_Works (LoadBalancingPoliciesTests.cs): with one server
    // already busy, every pick while the earlier picks stay in flight is a least loaded server.
    [Fact]
    public void LeastRequests_WithRequestsHeld_AlwaysPicksALeastLoadedServer()
    {
        var group = Create(Weighted(BalancingPolicy.LeastRequests, 1, 1, 1));
        Assert.True(group.Servers[0].TryAcquire());

        for (var i = 0; i < 10; i++)
        {
            var least = group.Servers.Min(s => s.ActiveRequests);
            var (server, _) = Acquire(group);
            Assert.Equal(least, server!.ActiveRequests - 1);
        }
    }

    // With two servers both are always drawn, so the choice is exact (YARP's
    // PickDestination_PowerOfTwoChoices_Works: the less loaded of the two draws).
    [Fact]
    public void PowerOfTwoChoices_WithTwoServers_PicksTheLessLoaded()
    {
        var group = Create(Weighted(BalancingPolicy.PowerOfTwoChoices, 1, 1));
        Assert.True(group.Servers[0].TryAcquire());

        for (var i = 0; i < 50; i++)
        {
            var (server, _) = Acquire(group);
            Assert.Same(group.Servers[1], server);
            group.Release(server!);
        }
    }

    // The busiest server loses every draw it is in, whichever the other draw is.
    [Fact]
    public void PowerOfTwoChoices_NeverPicksTheBusiestServer()
    {
        var group = Create(Weighted(BalancingPolicy.PowerOfTwoChoices, 1, 1, 1, 1));
        for (var n = 0; n < 5; n++)
        {
            Assert.True(group.Servers[2].TryAcquire());
        }

        var sequence = Sequence(group, 200);

        Assert.DoesNotContain('c', sequence);
        Assert.Contains('a', sequence);
        Assert.Contains('b', sequence);
        Assert.Contains('d', sequence);
    }

    [Fact]
    public void PowerOfTwoChoices_FindsTheOnlyServerUp()
    {
        var time = new FakeTimeProvider();
        var group = Create(Weighted(BalancingPolicy.PowerOfTwoChoices, 1, 1, 1, 1), time);
        TakeOut(group.Servers[0], time);
        TakeOut(group.Servers[1], time);
        TakeOut(group.Servers[3], time);

        Assert.Equal(new string('c', 50), Sequence(group, 50));
    }

    [Theory]
    [InlineData(BalancingPolicy.RoundRobin)]
    [InlineData(BalancingPolicy.LeastRequests)]
    [InlineData(BalancingPolicy.PowerOfTwoChoices)]
    [InlineData(BalancingPolicy.Hash)]
    public void Backup_IsUnusedWhileAPrimaryIsUp_AndTakesOverWhenNoneIs(BalancingPolicy policy)
    {
        var time = new FakeTimeProvider();
        var options = Weighted(policy, 1, 1);
        options.Servers.Add(Server(2, backup: true));
        var group = Create(options, time);

        Assert.DoesNotContain('c', Sequence(group, 20, Keyed));

        TakeOut(group.Servers[0], time);
        Assert.DoesNotContain('c', Sequence(group, 20, Keyed));

        TakeOut(group.Servers[1], time);
        Assert.Equal(new string('c', 20), Sequence(group, 20, Keyed));

        // Back after FailTimeout: the primaries take over again.
        time.Advance(options.FailTimeout);
        Assert.DoesNotContain('c', Sequence(group, 20, Keyed));
    }

    // nginx's backups serve a retry once every primary was tried (get_round_robin_peer's "failed:"
    // branch moves on to peers->next).
    [Fact]
    public void Backup_TakesTheRetryWhenEveryPrimaryWasTried()
    {
        var options = Weighted(BalancingPolicy.RoundRobin, 1);
        options.Servers.Add(Server(1, backup: true));
        var group = Create(options);

        var (server, _) = Acquire(group, tried: [group.Servers[0]]);

        Assert.Same(group.Servers[1], server);
    }

    // nginx-tests upstream_max_conns.t: requests held open at once, spread over servers with
    // max_conns, and what each server got. "single", "backup", "backup limited", "all peers",
    // "some peers", "weight", "least_conn", "least_conn backup", "least_conn backup limited",
    // "hash consistent". Server specs: w<n> weight, m<n> MaxConnections, b backup. Requests beyond
    // every limit get QueueFull at once (QueueLimit 0; nginx answers 502, having no queue).
    [Theory]
    [InlineData(BalancingPolicy.RoundRobin, "m3", 4, "3")]
    [InlineData(BalancingPolicy.RoundRobin, "m2|b", 6, "2,4")]
    [InlineData(BalancingPolicy.RoundRobin, "m2|b m3", 6, "2,3")]
    [InlineData(BalancingPolicy.RoundRobin, "m1|m1", 4, "1,1")]
    [InlineData(BalancingPolicy.RoundRobin, "m1|", 4, "1,3")]
    [InlineData(BalancingPolicy.RoundRobin, "w2 m1|", 4, "1,3")]
    [InlineData(BalancingPolicy.LeastRequests, "m1|", 4, "1,3")]
    [InlineData(BalancingPolicy.LeastRequests, "m2|b", 6, "2,4")]
    [InlineData(BalancingPolicy.LeastRequests, "m2|b m3", 6, "2,3")]
    [InlineData(BalancingPolicy.Hash, "m1|m2", 4, "1,2")]
    [InlineData(BalancingPolicy.PowerOfTwoChoices, "m1|m2", 4, "1,2")]
    public void MaxConnections_CapsEachServer_AndOverflowsToOthersAndBackups(BalancingPolicy policy, string servers, int held, string expected)
    {
        var options = new UpstreamOptions { Balancing = policy, HashKey = "$http_x_key", QueueLimit = 0 };
        var specs = servers.Split('|');
        for (var i = 0; i < specs.Length; i++)
        {
            options.Servers.Add(Parse(i, specs[i]));
        }

        var group = Create(options);
        var failures = 0;
        for (var i = 0; i < held; i++)
        {
            var (server, failure) = Acquire(group, Keyed(i));
            if (server is null)
            {
                Assert.Equal(AdmissionFailure.QueueFull, failure);
                failures++;
            }
        }

        Assert.Equal(expected, string.Join(",", group.Servers.Select(s => s.ActiveRequests)));
        Assert.Equal(held - group.Servers.Sum(s => s.ActiveRequests), failures);

        static UpstreamServerOptions Parse(int index, string spec)
        {
            var server = Server(index);
            foreach (var token in spec.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                switch (token[0])
                {
                    case 'w': server.Weight = int.Parse(token[1..], System.Globalization.CultureInfo.InvariantCulture); break;
                    case 'm': server.MaxConnections = int.Parse(token[1..], System.Globalization.CultureInfo.InvariantCulture); break;
                    default: server.Backup = true; break;
                }
            }

            return server;
        }
    }

    [Fact]
    public void EveryServerDown_FailsAtOnceWithNoLiveServer()
    {
        var time = new FakeTimeProvider();
        var group = Create(Weighted(BalancingPolicy.RoundRobin, 1, 1), time);
        TakeOut(group.Servers[0], time);
        TakeOut(group.Servers[1], time);

        var (server, failure) = Acquire(group);

        Assert.Null(server);
        Assert.Equal(AdmissionFailure.NoLiveServer, failure);
    }

    [Fact]
    public async Task WeightedRoundRobin_SplitsRequestsThroughTheProxyExactlyByWeight()
    {
        await using var heavy = await UpstreamHost.NamedAsync("heavy");
        await using var light = await UpstreamHost.NamedAsync("light");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { "Servers": [ {{ServingJson.Server(heavy.Address, "\"Weight\": 2")}}, {{ServingJson.Server(light.Address)}} ] }
            """));

        var answers = new Dictionary<string, int>();
        for (var i = 0; i < 300; i++)
        {
            var body = await host.Client.GetStringAsync($"/r{i}");
            answers[body] = answers.GetValueOrDefault(body) + 1;
        }

        Assert.Equal(200, answers["heavy"]);
        Assert.Equal(100, answers["light"]);
    }

    [Fact]
    public async Task Backup_GetsNoRequestWhileThePrimaryAnswers()
    {
        await using var primary = await UpstreamHost.NamedAsync("primary");
        await using var backup = await UpstreamHost.NamedAsync("backup");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { "Servers": [ {{ServingJson.Server(primary.Address)}}, {{ServingJson.Server(backup.Address, "\"Backup\": true")}} ] }
            """));

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("primary", await host.Client.GetStringAsync("/"));
        }

        Assert.Empty(backup.Requests);
    }

    [Fact]
    public async Task Backup_AnswersWhenThePrimaryRefuses()
    {
        await using var backup = await UpstreamHost.NamedAsync("backup");
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { "Servers": [ {{ServingJson.Server(RawUpstream.RefusingAddress())}}, {{ServingJson.Server(backup.Address, "\"Backup\": true")}} ] }
            """));

        // The first request is retried on the backup; the primary is then out, so later ones go there at once.
        for (var i = 0; i < 5; i++)
        {
            using var response = await host.Client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("backup", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(5, backup.Requests.Count);
        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 3001);
    }

    /// <summary>A request carrying hash key <c>k{i}</c> (in <c>X-Key</c>), so Hash groups have something to hash.</summary>
    private static HttpContext Keyed(int i)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["X-Key"] = "k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return context;
    }
}
