using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Passive health through the proxy (nginx <c>max_fails</c>/<c>fail_timeout</c>): <c>MaxFails</c>
/// failures within <c>FailTimeout</c> take a server out for <c>FailTimeout</c>. The clock is a
/// <see cref="FakeTimeProvider"/>; the failing server is a raw socket that resets each connection
/// until told to answer. Groups are [flaky, good] with equal weights, so round robin alternates
/// flaky, good, flaky… while both are up, and <c>Retries</c> is 0 so each request makes one attempt.
/// </summary>
public sealed class PassiveHealthTests : IAsyncDisposable
{
    private static readonly TimeSpan FailTimeout = TestTimeouts.Wait;

    private readonly FakeTimeProvider _time = new();
    private readonly Flaky _flaky = new("flaky");
    private UpstreamHost? _good;
    private ServingHost? _host;

    // nginx-tests upstream.t "failures": once max_fails attempts failed the server gets nothing until
    // fail_timeout passes.
    [Fact]
    public async Task MaxFailsFailures_TakeTheServerOut_UntilFailTimeoutPasses()
    {
        var host = await StartAsync(""" "MaxFails": 2 """);

        Assert.Equal("502 good 502 good", Describe(await SendAsync(4)));
        Assert.Equal(2, _flaky.Connections);
        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 3004);
        Assert.Equal("good good good good good good", Describe(await SendAsync(6)));
        Assert.Equal(2, _flaky.Connections);

        _flaky.Healthy = true;
        _time.Advance(FailTimeout - TimeSpan.FromSeconds(1));
        Assert.Equal("good good", Describe(await SendAsync(2)));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["flaky", "good"], (await SendAsync(2)).Select(r => r.Body).Order());
    }

    [Fact]
    public async Task FailuresFurtherApartThanFailTimeout_DoNotAddUp()
    {
        await StartAsync(""" "MaxFails": 2 """);

        Assert.Equal("502 good", Describe(await SendAsync(2)));
        _time.Advance(FailTimeout);
        Assert.Equal("502 good 502 good", Describe(await SendAsync(4)));

        // The failure before the wait did not count: only now are there two within FailTimeout.
        Assert.Equal(3, _flaky.Connections);
        Assert.Equal("good good", Describe(await SendAsync(2)));
    }

    [Fact]
    public async Task SuccessBetweenFailures_DoesNotForgiveThem_WithinFailTimeout()
    {
        // nginx-tests upstream.t "failures": a server failing one request in two still goes out, because
        // nginx counts failures within fail_timeout whatever succeeded between them.
        var host = await StartAsync(""" "MaxFails": 2 """);

        Assert.Equal("502 good", Describe(await SendAsync(2)));
        _flaky.Healthy = true;
        Assert.Equal("flaky good", Describe(await SendAsync(2)));
        _flaky.Healthy = false;
        Assert.Equal("502 good", Describe(await SendAsync(2)));
        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 3004);

        _flaky.Healthy = true;
        Assert.Equal("good good good", Describe(await SendAsync(3)));
    }

    // nginx (ngx_http_upstream_module, max_fails): "If there is only a single server in a group,
    // max_fails, fail_timeout and slow_start parameters are ignored, and such a server will never be
    // considered unavailable." The moment it answers again, it is used again.
    [Fact]
    public async Task TheOnlyServerOfAGroup_IsNeverTakenOut()
    {
        _host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { "MaxFails": 1, "Retries": 0, "Servers": [ {{ServingJson.Server(_flaky.Address)}} ] }
            """), services: s => s.AddSingleton<TimeProvider>(_time));

        Assert.Equal("502 502 502 502 502", Describe(await SendAsync(5)));
        Assert.Equal(5, _flaky.Connections);

        _flaky.Healthy = true;
        Assert.Equal("flaky", Describe(await SendAsync(1)));
        Assert.DoesNotContain(_host.Logs.GetSnapshot(), r => r.Id.Id is 3004 or 3005);
    }

    // When every server is out the request fails at once (nginx's "no live upstreams"), without an
    // attempt on a server known to be down, and the group recovers after FailTimeout.
    [Fact]
    public async Task EveryServerOut_Answers502AtOnce_WithoutTryingThem()
    {
        await using var other = new Flaky("other");
        _host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { "MaxFails": 1, "Retries": 1, "Servers": [ {{ServingJson.Server(_flaky.Address)}}, {{ServingJson.Server(other.Address)}} ] }
            """), services: s => s.AddSingleton<TimeProvider>(_time));

        Assert.Equal("502", Describe(await SendAsync(1)));
        Assert.Equal((1, 1), (_flaky.Connections, other.Connections));

        var noLive = await SendAsync(1);

        Assert.Equal("502", Describe(noLive));
        Assert.Equal("502 Bad Gateway\n", noLive[0].Body);
        Assert.Equal((1, 1), (_flaky.Connections, other.Connections));
        Assert.Single(_host.Logs.GetSnapshot(), r => r.Id.Id == 3005);

        _flaky.Healthy = true;
        other.Healthy = true;
        _time.Advance(FailTimeout);
        Assert.Equal(["flaky", "other"], (await SendAsync(2)).Select(r => r.Body).Order());
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_good is not null)
        {
            await _good.DisposeAsync();
        }

        await _flaky.DisposeAsync();
    }

    private async Task<ServingHost> StartAsync(string settings)
    {
        _good = await UpstreamHost.NamedAsync("good");
        _host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { {{settings}}, "FailTimeout": "00:00:10", "Retries": 0, "Servers": [ {{ServingJson.Server(_flaky.Address)}}, {{ServingJson.Server(_good.Address)}} ] }
            """), services: s => s.AddSingleton<TimeProvider>(_time));
        return _host;
    }

    /// <summary>Sends <paramref name="count"/> GETs one after another.</summary>
    private async Task<List<(HttpStatusCode Status, string Body)>> SendAsync(int count)
    {
        var answers = new List<(HttpStatusCode, string)>();
        for (var i = 0; i < count; i++)
        {
            using var response = await _host!.Client.GetAsync("/");
            answers.Add((response.StatusCode, await response.Content.ReadAsStringAsync()));
        }

        return answers;
    }

    /// <summary>The upstream's name for each answer, the status code for each failure.</summary>
    private static string Describe(List<(HttpStatusCode Status, string Body)> answers) =>
        string.Join(' ', answers.Select(a => a.Status == HttpStatusCode.OK ? a.Body : ((int)a.Status).ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>An upstream that resets every connection after reading the request, until <see cref="Healthy"/>.</summary>
    private sealed class Flaky : IAsyncDisposable
    {
        private readonly RawUpstream _raw;
        private volatile bool _healthy;

        public Flaky(string name)
        {
            // Connection: close, so every request opens its own connection and Connections counts attempts.
            var answer = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {name.Length}\r\nConnection: close\r\n\r\n{name}");
            _raw = RawUpstream.Start(async (socket, cancellationToken) =>
            {
                await RawUpstream.ReadHeadAsync(socket, cancellationToken);
                if (!_healthy)
                {
                    RawUpstream.Reset(socket);
                    return;
                }

                await socket.SendAsync(answer, cancellationToken);
            });
        }

        public bool Healthy
        {
            set => _healthy = value;
        }

        public string Address => _raw.Address;

        /// <summary>Connections accepted: one per attempt.</summary>
        public int Connections => _raw.Connections;

        public ValueTask DisposeAsync() => _raw.DisposeAsync();
    }
}
