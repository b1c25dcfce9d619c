using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Proxy;
using ProductionServing.Tests.Infrastructure;
using static ProductionServing.Tests.Proxy.TestGroups;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// The wait for a server under <c>MaxConnections</c>, on <see cref="UpstreamGroup"/> directly: the
/// bounded queue, hand-over to the oldest waiter, leaving on timeout or client abort, reloads, and
/// slot accounting under concurrency. (Through the proxy: <see cref="MaxConnectionsTests"/>.)
/// </summary>
public sealed class AdmissionTests
{
    [Fact]
    public void QueueLimitZero_RejectsAtOnce()
    {
        var group = Create(Limited(maxConnections: 1, queueLimit: 0));
        Assert.NotNull(Acquire(group).Server);

        var (server, failure) = Acquire(group);

        Assert.Null(server);
        Assert.Equal(AdmissionFailure.QueueFull, failure);
    }

    [Fact]
    public void FullQueue_RejectsTheNextRequestAtOnce()
    {
        var group = Create(Limited(maxConnections: 1, queueLimit: 2));
        Assert.NotNull(Acquire(group).Server);
        var first = Wait(group);
        var second = Wait(group);

        var (server, failure) = Acquire(group);

        Assert.Null(server);
        Assert.Equal(AdmissionFailure.QueueFull, failure);
        Assert.Equal(2, group.QueueLength);
        Assert.False(first.IsCompleted || second.IsCompleted);
    }

    [Fact]
    public async Task Release_HandsTheSlotToTheOldestWaiter_OneAtATime()
    {
        var group = Create(Limited(maxConnections: 1, queueLimit: 10));
        var server = Acquire(group).Server!;
        var first = Wait(group);
        var second = Wait(group);

        group.Release(server);

        Assert.Equal((server, AdmissionFailure.None), await first.WaitAsync(TestTimeouts.Wait));
        Assert.False(second.IsCompleted);
        Assert.Equal(1, server.ActiveRequests);

        group.Release(server);

        Assert.Equal((server, AdmissionFailure.None), await second.WaitAsync(TestTimeouts.Wait));
        Assert.Equal(1, server.ActiveRequests);
        group.Release(server);
        Assert.Equal(0, server.ActiveRequests);
        Assert.Equal(0, group.QueueLength);
    }

    // The slot goes to the waiter before its continuation even runs: a request arriving in between
    // finds the server full and queues behind, instead of taking the slot and starving the waiter.
    [Fact]
    public async Task HandedSlot_CannotBeTakenByANewcomer()
    {
        var group = Create(Limited(maxConnections: 1, queueLimit: 10));
        var server = Acquire(group).Server!;
        var waiter = Wait(group);

        group.Release(server);
        var newcomer = Wait(group);

        Assert.Equal((server, AdmissionFailure.None), await waiter.WaitAsync(TestTimeouts.Wait));
        Assert.False(newcomer.IsCompleted);
        group.Release(server);
        Assert.Equal((server, AdmissionFailure.None), await newcomer.WaitAsync(TestTimeouts.Wait));
    }

    // A retry waiting for another server is not handed the one it already failed on; the next waiter is.
    [Fact]
    public async Task Release_SkipsAWaiterThatAlreadyTriedThatServer()
    {
        var options = Limited(maxConnections: 1, queueLimit: 10);
        options.Servers.Add(Server(1, maxConnections: 1));
        var group = Create(options);
        var a = Acquire(group).Server!;
        var b = Acquire(group).Server!;
        var retry = Wait(group, tried: [a]);
        var fresh = Wait(group);

        group.Release(a);

        Assert.Equal((a, AdmissionFailure.None), await fresh.WaitAsync(TestTimeouts.Wait));
        Assert.False(retry.IsCompleted);

        group.Release(b);

        Assert.Equal((b, AdmissionFailure.None), await retry.WaitAsync(TestTimeouts.Wait));
    }

    [Fact]
    public async Task ClientGoneWhileWaiting_LeavesTheQueue_AndIsNotHandedASlot()
    {
        var group = Create(Limited(maxConnections: 1, queueLimit: 10));
        var server = Acquire(group).Server!;
        using var client = new CancellationTokenSource();
        var gone = Wait(group, new DefaultHttpContext { RequestAborted = client.Token });
        var staying = Wait(group);

        await client.CancelAsync();

        Assert.Equal((null, AdmissionFailure.Canceled), await gone.WaitAsync(TestTimeouts.Wait));
        Assert.Equal(1, group.QueueLength);
        group.Release(server);
        Assert.Equal((server, AdmissionFailure.None), await staying.WaitAsync(TestTimeouts.Wait));
        group.Release(server);
        Assert.Equal(0, server.ActiveRequests);
    }

    [Fact]
    public async Task QueueTimeout_EndsTheWait()
    {
        var time = new FakeTimeProvider();
        var options = Limited(maxConnections: 1, queueLimit: 10);
        options.QueueTimeout = TimeSpan.FromSeconds(5);
        var group = Create(options, time);
        var server = Acquire(group).Server!;
        var waiting = Wait(group);

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal((null, AdmissionFailure.QueueTimeout), await waiting.WaitAsync(TestTimeouts.Wait));
        Assert.Equal(0, group.QueueLength);
        group.Release(server);
        Assert.Equal(0, server.ActiveRequests);
    }

    // A reload compiles a new group around the same servers while requests of the old snapshot are in
    // flight. Their releases must reach the new snapshot's waiters (and the other way round), or those
    // wait out QueueTimeout with a slot free.
    [Fact]
    public async Task AfterAReload_AReleaseOfEitherSnapshotAdmitsAWaiterOfTheOther()
    {
        var options = Limited(maxConnections: 1, queueLimit: 10);
        var registry = new UpstreamRegistry(TimeProvider.System, NullLoggerFactory.Instance, TestGroups.Metrics);
        var old = Build(registry, options);
        var server = Acquire(old).Server!;
        var reloaded = Build(registry, options);
        var newWaiter = Wait(reloaded);

        old.Release(server);

        Assert.Equal((server, AdmissionFailure.None), await newWaiter.WaitAsync(TestTimeouts.Wait));
        var oldWaiter = Wait(old);
        reloaded.Release(server);
        Assert.Equal((server, AdmissionFailure.None), await oldWaiter.WaitAsync(TestTimeouts.Wait));
    }

    [Fact]
    public async Task AfterAReload_AServerTheReloadRemovedIsNotHandedToTheNewSnapshot()
    {
        var options = Limited(maxConnections: 1, queueLimit: 10);
        options.Servers.Add(Server(1, maxConnections: 1));
        var registry = new UpstreamRegistry(TimeProvider.System, NullLoggerFactory.Instance, TestGroups.Metrics);
        var old = Build(registry, options);
        var a = Acquire(old).Server!;
        var b = Acquire(old).Server!;
        var withoutA = Limited(maxConnections: 1, queueLimit: 10);
        withoutA.Servers[0] = Server(1, maxConnections: 1);
        var reloaded = Build(registry, withoutA);
        var waiting = Wait(reloaded);

        old.Release(a);

        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, a.ActiveRequests);
        old.Release(b);
        Assert.Equal((b, AdmissionFailure.None), await waiting.WaitAsync(TestTimeouts.Wait));
    }

    // Many requests race for few slots while clients go away (before, during and after the wait),
    // retries skip servers and the clock runs out some waits. Whatever the interleaving, no server
    // ever has more requests than its MaxConnections, and at the end every slot is free and nobody waits.
    [Fact]
    public async Task ConcurrentRequestsWithAbortsAndTimeouts_NeverOvercommit_AndEndWithEverySlotFree()
    {
        var time = new FakeTimeProvider();
        var options = Limited(maxConnections: 2, queueLimit: 10_000);
        options.QueueTimeout = TimeSpan.FromSeconds(3);
        options.Servers.Add(Server(1, weight: 2, maxConnections: 2));
        options.Servers.Add(Server(2, maxConnections: 1));
        var group = Create(options, time);
        var inFlight = new int[3];
        var outcomes = new int[Enum.GetValues<AdmissionFailure>().Length];

        var requests = new Task[3_000];
        for (var i = 0; i < requests.Length; i++)
        {
            var n = i;
            requests[i] = Task.Run(async () =>
            {
                using var client = new CancellationTokenSource();
                var context = new DefaultHttpContext { RequestAborted = client.Token };
                var abort = n % 5 == 1 ? Task.Run(client.Cancel) : Task.CompletedTask;
                if (n % 5 == 2)
                {
                    await client.CancelAsync();
                }

                if (n % 10 == 0)
                {
                    time.Advance(TimeSpan.FromSeconds(1));
                }

                List<UpstreamServer>? tried = n % 7 == 0 ? [group.Servers[n % 3]] : null;
                var (server, failure) = await group.AcquireAsync(context, "/", tried);
                Interlocked.Increment(ref outcomes[(int)failure]);
                if (server is not null)
                {
                    var index = Letter(group, server) - 'a';
                    Assert.True(tried is null || !tried.Contains(server));
                    Assert.InRange(Interlocked.Increment(ref inFlight[index]), 1, server.MaxConnections);
                    await Task.Yield();
                    Interlocked.Decrement(ref inFlight[index]);
                    group.Release(server);
                }

                await abort;
            });
        }

        await Task.WhenAll(requests).WaitAsync(TestTimeouts.Long);

        Assert.All(group.Servers, s => Assert.Equal(0, s.ActiveRequests));
        Assert.Equal(0, group.QueueLength);
        Assert.Equal(0, outcomes[(int)AdmissionFailure.QueueFull] + outcomes[(int)AdmissionFailure.NoLiveServer] + outcomes[(int)AdmissionFailure.AllTried]);
        Assert.True(outcomes[(int)AdmissionFailure.None] > 0);
    }

    /// <summary>A group whose first (and so far only) server takes <paramref name="maxConnections"/> requests.</summary>
    private static UpstreamOptions Limited(int maxConnections, int queueLimit)
    {
        var options = new UpstreamOptions { QueueLimit = queueLimit };
        options.Servers.Add(Server(0, maxConnections: maxConnections));
        return options;
    }

    /// <summary>Starts an acquire that must queue (the join is synchronous, so it is in the queue on return).</summary>
    private static Task<(UpstreamServer? Server, AdmissionFailure Failure)> Wait(UpstreamGroup group, HttpContext? context = null, List<UpstreamServer>? tried = null)
    {
        var queued = group.QueueLength;
        var waiting = group.AcquireAsync(context ?? new DefaultHttpContext(), "/", tried).AsTask();
        Assert.False(waiting.IsCompleted, "The request did not have to wait.");
        Assert.Equal(queued + 1, group.QueueLength);
        return waiting;
    }
}
