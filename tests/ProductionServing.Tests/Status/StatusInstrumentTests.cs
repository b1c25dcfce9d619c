using System.Net;
using ProductionServing.Tests.Infrastructure;
using ProductionServing.Tests.Pools;

namespace ProductionServing.Tests.Status;

/// <summary>
/// The status page's counts that come from the pool and upstream instruments:
/// rejections by reason, upstream attempts and failures by server, attempt durations.
/// </summary>
public sealed class StatusInstrumentTests
{
    [Fact]
    public async Task PoolRejections_AreCountedByReason()
    {
        var json = ServingJson.Config("""{ "Match": "/", "App": { "Pool": "p" } }""", pools: """ "p": { "MaxConcurrency": 1, "QueueLimit": 0 } """,
            section: StatusTestClient.Section());
        await using var app = await PoolTestApp.StartAsync(json);
        var running = app.Client.GetAsync("/gate/a");
        await app.Started("a");

        using var rejected = await app.Client.GetAsync("/work");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);

        var status = await app.Client.StatusWhenAsync(s => s.Entry("pools", "name", "p").GetProperty("rejected").GetInt64() == 1, "the rejection is counted");
        Assert.Equal(1, status.Entry("pools", "name", "p").GetProperty("rejected_by_reason").GetProperty("queue_full").GetInt64());
        app.Open("a");
        await running;
    }

    [Fact]
    public async Task UpstreamAttempts_AreCountedPerServer_WithFailuresByReason_AndResponseTimes()
    {
        await using var alive = await UpstreamHost.NamedAsync("alive");
        var refusing = RawUpstream.RefusingAddress();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.ProxyLocation("/", "http://backend"),
            ServingJson.Upstream("backend", "\"MaxFails\": 1, \"FailTimeout\": \"00:01:00\", \"Retries\": 1", refusing, alive.Address),
            section: StatusTestClient.Section()));

        Assert.Equal("alive", await host.Client.GetStringAsync("/x"));
        Assert.Equal("alive", await host.Client.GetStringAsync("/y"));

        var status = await host.Client.StatusWhenAsync(s => s.Entry("upstreams", "name", "backend").Entry("servers", "address", new Uri(alive.Address).Authority)
            .GetProperty("attempts").GetInt64() == 2, "the attempts are counted");
        var group = status.Entry("upstreams", "name", "backend");
        var down = group.Entry("servers", "address", new Uri(refusing).Authority);
        Assert.Equal((1, 1), (down.GetProperty("attempts").GetInt64(), down.GetProperty("failures").GetInt64()));
        Assert.Equal(1, down.GetProperty("failures_by_reason").GetProperty("upstream_connect").GetInt64());
        var up = group.Entry("servers", "address", new Uri(alive.Address).Authority);
        Assert.Equal(0, up.GetProperty("failures").GetInt64());
        Assert.True(up.GetProperty("mean_ms").GetDouble() > 0);
    }

    [Fact]
    public async Task FailedRequest_ListsItsUpstreamAttempts()
    {
        var refusing = RawUpstream.RefusingAddress();
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.ProxyLocation("/", "http://backend"),
            ServingJson.Upstream("backend", "\"Retries\": 0", refusing), section: StatusTestClient.Section()));

        Assert.Equal(HttpStatusCode.BadGateway, (await host.Client.GetAsync("/x")).StatusCode);

        var status = await host.Client.StatusWhenAsync(s => s.GetProperty("recent_errors").GetArrayLength() == 1, "the failure is listed");
        var attempt = Assert.Single(status.GetProperty("recent_errors")[0].GetProperty("upstream").EnumerateArray());
        Assert.Equal("upstream_connect", attempt.GetProperty("error_type").GetString());
        Assert.Contains(new Uri(refusing).Authority, attempt.GetProperty("server").GetString(), StringComparison.Ordinal);
    }
}
