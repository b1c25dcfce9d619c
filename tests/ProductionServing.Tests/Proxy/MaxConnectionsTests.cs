using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Proxy.ProxyTestHosts;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// <c>MaxConnections</c> through the proxy: the bounded queue answers 503 when full or when the wait
/// reaches <c>QueueTimeout</c>, a freed slot admits the oldest waiter, a client that leaves stops
/// waiting, and no slot is lost under load. Requests are held open at the upstream by a gate.
/// </summary>
public sealed class MaxConnectionsTests
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task FullQueue_Answers503AtOnce_AndTheQueuedRequestIsServedWhenTheSlotFrees()
    {
        await using var upstream = await GatedUpstreamAsync();
        await using var host = await ServingHost.StartAsync(OneSlot(upstream, """ "QueueLimit": 1 """));
        var group = Backend(host);

        var holding = host.Client.GetAsync("/hold");
        await _held.Task.WaitAsync(TestTimeouts.Wait);
        var queued = host.Client.GetStringAsync("/queued");
        await Poll.UntilAsync(() => group.QueueLength == 1, "the second request queues");

        using var rejected = await host.Client.GetAsync("/rejected");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal("503 Service Unavailable\n", await rejected.Content.ReadAsStringAsync());
        Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == 3006);

        _open.SetResult();
        using var held = await holding.WaitAsync(TestTimeouts.Wait);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        Assert.Equal("/queued", await queued.WaitAsync(TestTimeouts.Wait));
        Assert.DoesNotContain(upstream.Requests, r => r.RawTarget == "/rejected");
    }

    [Fact]
    public async Task WaitReachingQueueTimeout_Answers503()
    {
        var time = new TimerCountingTimeProvider();
        var queueTimeout = TimeSpan.FromSeconds(5);
        await using var upstream = await GatedUpstreamAsync();
        await using var host = await ServingHost.StartAsync(OneSlot(upstream, """ "QueueTimeout": "00:00:05" """),
            services: s => s.AddSingleton<TimeProvider>(time));
        var group = Backend(host);

        var holding = host.Client.GetAsync("/hold");
        await _held.Task.WaitAsync(TestTimeouts.Wait);
        var queued = host.Client.GetAsync("/queued");

        // The request joins the queue, then sets its QueueTimeout timer: wait for both, or the clock
        // could move before the timer exists and the wait would end 5 s of fake time later than that.
        await Poll.UntilAsync(() => group.QueueLength == 1 && time.Created(queueTimeout) == 1, "the second request queues, its QueueTimeout set");

        time.Advance(queueTimeout);

        using var timedOut = await queued.WaitAsync(TestTimeouts.Wait);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, timedOut.StatusCode);
        Assert.True(host.Logs.HasEvent(3006, "Reason", "QueueTimeout"));
        _open.SetResult();
        using var held = await holding.WaitAsync(TestTimeouts.Wait);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
    }

    [Fact]
    public async Task FreedSlot_AdmitsTheOldestWaiterFirst()
    {
        await using var upstream = await GatedUpstreamAsync();
        await using var host = await ServingHost.StartAsync(OneSlot(upstream));
        var group = Backend(host);

        var holding = host.Client.GetAsync("/hold");
        await _held.Task.WaitAsync(TestTimeouts.Wait);
        var second = host.Client.GetStringAsync("/second");
        await Poll.UntilAsync(() => group.QueueLength == 1, "the second request queues");
        var third = host.Client.GetStringAsync("/third");
        await Poll.UntilAsync(() => group.QueueLength == 2, "the third request queues behind it");

        _open.SetResult();

        using var held = await holding.WaitAsync(TestTimeouts.Wait);
        Assert.Equal("/second", await second.WaitAsync(TestTimeouts.Wait));
        Assert.Equal("/third", await third.WaitAsync(TestTimeouts.Wait));
        Assert.Equal(["/hold", "/second", "/third"], upstream.Requests.Select(r => r.RawTarget));
    }

    [Fact]
    public async Task ClientThatDisconnectsWhileWaiting_LeavesTheQueue_AndNeverReachesTheUpstream()
    {
        await using var upstream = await GatedUpstreamAsync();
        await using var host = await ServingHost.StartAsync(OneSlot(upstream));
        var group = Backend(host);

        var holding = host.Client.GetAsync("/hold");
        await _held.Task.WaitAsync(TestTimeouts.Wait);
        using var client = new CancellationTokenSource();
        var leaving = host.Client.GetAsync("/leaving", client.Token);
        await Poll.UntilAsync(() => group.QueueLength == 1, "the second request queues");

        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(TestTimeouts.Wait));
        await Poll.UntilAsync(() => group.QueueLength == 0, "the departed client leaves the queue");
        _open.SetResult();
        using var held = await holding.WaitAsync(TestTimeouts.Wait);
        Assert.Equal("/after", await host.Client.GetStringAsync("/after"));
        Assert.DoesNotContain(upstream.Requests, r => r.RawTarget == "/leaving");
        await Poll.UntilAsync(() => group.Servers[0].ActiveRequests == 0, "every slot is free");
    }

    // Two servers of two slots, 200 requests at once, a third of them cancelled by the client at
    // arbitrary points (queued, in flight, or already done). Every request that stays gets its answer,
    // and once all is over no slot is held and nobody waits: nothing was lost or counted twice.
    [Fact]
    public async Task ManyRequestsWithClientsLeaving_AllOthersAnswered_AndEverySlotFreeAfterwards()
    {
        var time = new FakeTimeProvider();
        await using var a = await UpstreamHost.StartAsync(Answer("a"));
        await using var b = await UpstreamHost.StartAsync(Answer("b"));
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll("http://backend", $$"""
            "backend": { "QueueLimit": 1000, "Servers": [ {{ServingJson.Server(a.Address, "\"MaxConnections\": 2")}}, {{ServingJson.Server(b.Address, "\"MaxConnections\": 2")}} ] }
            """), services: s => s.AddSingleton<TimeProvider>(time));
        var group = Backend(host);

        var requests = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            using var client = new CancellationTokenSource();
            var leave = i % 3 == 0 ? LeaveAfterYields(client, i % 7) : Task.CompletedTask;
            try
            {
                using var response = await host.Client.GetAsync($"/r{i}", client.Token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Matches("^[ab]$", await response.Content.ReadAsStringAsync(client.Token));
            }
            catch (OperationCanceledException) when (client.IsCancellationRequested)
            {
            }

            await leave;
        })).ToArray();

        await Task.WhenAll(requests).WaitAsync(TestTimeouts.Long);

        await Poll.UntilAsync(() => group.QueueLength == 0 && group.Servers.All(s => s.ActiveRequests == 0), "every slot is free");

        static async Task LeaveAfterYields(CancellationTokenSource client, int yields)
        {
            for (var n = 0; n < yields; n++)
            {
                await Task.Yield();
            }

            await client.CancelAsync();
        }
    }

    private static RequestDelegate Answer(string name) => async context =>
    {
        await Task.Yield();
        await context.Response.WriteAsync(name);
    };

    /// <summary>An upstream answering with the path; <c>/hold</c> waits for the test to open the gate.</summary>
    private Task<UpstreamHost> GatedUpstreamAsync() => UpstreamHost.StartAsync(async context =>
    {
        if (context.Request.Path == "/hold")
        {
            _held.TrySetResult();
            await _open.Task.WaitAsync(TestTimeouts.Wait);
        }

        await context.Response.WriteAsync(context.Request.Path.Value!);
    });

    private static string OneSlot(UpstreamHost upstream, string settings = "") => ServingJson.PassAll("http://backend", $$"""
        "backend": { {{(settings.Length == 0 ? "" : settings + ",")}} "Servers": [ {{ServingJson.Server(upstream.Address, "\"MaxConnections\": 1")}} ] }
        """);
}
