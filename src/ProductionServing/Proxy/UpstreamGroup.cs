using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ProductionServing.Diagnostics;

namespace ProductionServing.Proxy;

/// <summary>
/// A compiled upstream group: its servers split into primaries and backups, one balancer per tier,
/// the shared connection pool, and the bounded wait for a server under <c>MaxConnections</c>
/// (nginx Plus <c>max_conns</c> with <c>queue</c>). A <c>Pass</c> to a plain host is a group of one.
/// </summary>
/// <remarks>
/// Admission:
/// 1. A request takes a slot on the server its balancer picks among the primaries, else among the
///    backups (nginx uses backups when no primary can take the request: down, full or already tried).
/// 2. When every server it could use is up but full, it joins the group's queue (at most
///    <c>QueueLimit</c>) and waits at most <c>QueueTimeout</c>.
/// 3. A request that ends hands its slot straight to the oldest waiter that can use that server, without
///    giving it back first. A woken waiter that had to race newcomers for the slot could lose it and
///    starve; a handed slot cannot be taken, so waiters are served in arrival order.
/// 4. A waiter that times out or whose client goes away leaves the queue. If a slot was handed to it at
///    that very moment, it uses it (timeout) or hands it on (client gone): no slot is lost or counted twice.
/// Capacity that appears without a release (a server back after <c>FailTimeout</c>, a reload raising
/// <c>MaxConnections</c>) goes to newcomers first; waiters get the next release.
/// </remarks>
internal sealed class UpstreamGroup
{
    private readonly Balancer? _primaries;
    private readonly Balancer? _backups;
    private readonly UpstreamServer[] _all;
    private readonly WaitQueue _queue;

    /// <param name="name">The group's name.</param>
    /// <param name="options">The group's options, compiled here.</param>
    /// <param name="servers">The group's servers (kept across reloads by <see cref="UpstreamRegistry"/>).</param>
    /// <param name="transport">The group's connection pool.</param>
    /// <param name="queue">The group's wait queue (kept across reloads by <see cref="UpstreamRegistry"/>, with its waiters).</param>
    /// <param name="time">The clock of passive health and queue timeouts.</param>
    /// <param name="logger">For upstream failures.</param>
    /// <param name="metrics">For the upstream instruments.</param>
    public UpstreamGroup(string name, UpstreamOptions options, UpstreamServer[] servers, UpstreamTransport transport, WaitQueue queue,
        TimeProvider time, ILogger logger, ServingMetrics metrics)
    {
        Name = name;
        Metrics = metrics;
        Settings = new UpstreamSettings(options);
        Transport = transport;
        Time = time;
        Logger = logger;
        Timeouts = new TimeoutSourcePool(time);
        _all = servers;
        var primaries = Array.FindAll(servers, static s => !s.Backup);
        var backups = Array.FindAll(servers, static s => s.Backup);
        // A discovered group may have no server yet (or none left): its requests find no live server (502).
        _primaries = primaries.Length == 0 ? null : Balancer.Create(options, primaries);
        Policy = options.Balancing;
        _backups = backups.Length == 0 ? null : Balancer.Create(options, backups);
        _queue = queue;
    }

    /// <summary>The group's name: a key of <c>Upstreams</c>, or the host of a plain <c>Pass</c>.</summary>
    public string Name { get; }

    /// <summary>The group's settings (timeouts, retries, queue, health).</summary>
    public UpstreamSettings Settings { get; }

    /// <summary>For upstream failures.</summary>
    public ILogger Logger { get; }

    /// <summary>The upstream instruments.</summary>
    public ServingMetrics Metrics { get; }

    /// <summary>The connection pool shared by the group's servers.</summary>
    public UpstreamTransport Transport { get; }

    /// <summary>The clock of passive health and queue timeouts.</summary>
    public TimeProvider Time { get; }

    /// <summary>Reusable sources for the per-attempt ReadTimeout.</summary>
    public TimeoutSourcePool Timeouts { get; }

    /// <summary>Every server of the group, primaries and backups, in configuration order.</summary>
    public IReadOnlyList<UpstreamServer> Servers => _all;

    /// <summary>Requests waiting for a server under <c>MaxConnections</c> now.</summary>
    public int QueueLength => _queue.Count;

    /// <summary>
    /// Acquires a server for one attempt: a primary, else a backup. When every server it could use is
    /// at its connection limit, waits in the group's bounded queue. Completes synchronously unless it
    /// has to wait. The caller gives an acquired server back with <see cref="Release"/>.
    /// </summary>
    /// <param name="context">The request (its hash key, and its abort token ends a wait).</param>
    /// <param name="path">The request's normalized path (<c>$uri</c>).</param>
    /// <param name="tried">Servers this request already failed on; null on the first attempt.</param>
    /// <returns>The server, or null and why not.</returns>
    public ValueTask<(UpstreamServer? Server, AdmissionFailure Failure)> AcquireAsync(
        HttpContext context, string path, List<UpstreamServer>? tried)
    {
        var failure = TryAcquire(context, path, tried, out var server);
        return failure == AdmissionFailure.QueueFull && Settings.QueueLimit > 0
            ? WaitAsync(context, path, tried)
            : new ValueTask<(UpstreamServer?, AdmissionFailure)>((server, failure));
    }

    /// <summary>Counts a failed attempt against <paramref name="server"/>'s passive health, logging when it takes the server out.</summary>
    /// <param name="server">A server of this group.</param>
    public void CountFailure(UpstreamServer server)
    {
        if (server.ReportFailure(Time.GetTimestamp(), Time))
        {
            ProxyLog.UpstreamServerDown(Logger, Name, server.Name, Settings.FailTimeout, Settings.MaxFails);
        }
    }

    /// <summary>Ends an attempt's hold on <paramref name="server"/>: its slot goes to the oldest waiter that can use it, else back to the server.</summary>
    /// <param name="server">A server <see cref="AcquireAsync"/> gave this group's request.</param>
    public void Release(UpstreamServer server)
    {
        var queue = _queue;
        if (queue.IsEmpty)
        {
            server.Release();

            // A request that joined the queue just now may have looked at this server before the
            // release: both sides write then read with a full fence between, so one of them sees the
            // other. Take the slot back for it, unless someone else already took it (and will hand it on).
            if (queue.IsEmpty || !server.TryAcquire())
            {
                return;
            }
        }

        queue.HandOver(server, Time.GetTimestamp());
    }

    private AdmissionFailure TryAcquire(HttpContext context, string path, List<UpstreamServer>? tried, out UpstreamServer? server)
    {
        var now = Time.GetTimestamp();

        // A pick can lose the last slot to a concurrent request; a few rounds settle it, and a request
        // that still loses waits for the winner's release.
        for (var round = 0; round < 4; round++)
        {
            server = _primaries?.Pick(context, path, tried, now) ?? _backups?.Pick(context, path, tried, now);
            if (server is null)
            {
                break;
            }

            if (server.TryAcquire())
            {
                return AdmissionFailure.None;
            }
        }

        server = null;
        var up = false;
        foreach (var candidate in _all)
        {
            if (!candidate.IsUp(now))
            {
                continue;
            }

            up = true;
            if (tried is null || !tried.Contains(candidate))
            {
                // Up and untried, yet not acquired: it is at its MaxConnections.
                return AdmissionFailure.QueueFull;
            }
        }

        return up ? AdmissionFailure.AllTried : AdmissionFailure.NoLiveServer;
    }

    /// <summary>The group's balancing policy.</summary>
    public BalancingPolicy Policy { get; }

    /// <summary>
    /// The server the next request to <paramref name="path"/> would get, as <see cref="AcquireAsync"/> chooses
    /// (a primary, else a backup), without taking a slot or moving the balancer on: for the status page's
    /// <c>match</c> answer. False when the balancer's choice cannot be told in advance (see <see cref="Balancer.TryPeek"/>).
    /// </summary>
    /// <param name="path">The normalized path.</param>
    /// <param name="server">The server, or null when none could take the request now.</param>
    /// <returns>Whether the choice is determined.</returns>
    public bool TryPeek(string path, out UpstreamServer? server)
    {
        var now = Time.GetTimestamp();
        server = null;
        if (_primaries is not null && !_primaries.TryPeek(path, now, out server))
        {
            return false;
        }

        return server is not null || _backups is null || _backups.TryPeek(path, now, out server);
    }

    private async ValueTask<(UpstreamServer?, AdmissionFailure)> WaitAsync(HttpContext context, string path, List<UpstreamServer>? tried)
    {
        var waiter = new Waiter(this, tried);
        lock (_queue.Lock)
        {
            if (_queue.Count >= Settings.QueueLimit)
            {
                return (null, AdmissionFailure.QueueFull);
            }

            // Join first, then look again: a slot released before the join went back to its server and
            // is found now; one released after it is handed over (see Release).
            _queue.Add(waiter);
            var failure = TryAcquire(context, path, tried, out var server);
            if (failure != AdmissionFailure.QueueFull)
            {
                _queue.Remove(waiter);
                return (server, failure);
            }
        }

        using var timeout = new CancellationTokenSource(Settings.QueueTimeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, context.RequestAborted);
        try
        {
            var handed = await waiter.Task.WaitAsync(linked.Token).ConfigureAwait(false);
            return (handed, AdmissionFailure.None);
        }
        catch (OperationCanceledException)
        {
            var clientGone = context.RequestAborted.IsCancellationRequested;
            lock (_queue.Lock)
            {
                if (_queue.Remove(waiter))
                {
                    return (null, clientGone ? AdmissionFailure.Canceled : AdmissionFailure.QueueTimeout);
                }
            }

            // Not in the queue any more: a release handed this waiter a slot (the task was completed
            // under the lock) as the wait ended. Use it, unless the client is gone.
            var handed = waiter.Task.GetAwaiter().GetResult();
            if (!clientGone)
            {
                return (handed, AdmissionFailure.None);
            }

            Release(handed);
            return (null, AdmissionFailure.Canceled);
        }
    }

    /// <summary>
    /// The requests waiting for a server of one group, oldest first. Kept by <see cref="UpstreamRegistry"/>
    /// under the group's name, so the group's successive configurations share it.
    /// </summary>
    internal sealed class WaitQueue
    {
        private readonly LinkedList<Waiter> _waiters = new();
        private int _count;

        /// <summary>Guards the list; joining, leaving and handing over take it, a release with no waiters does not.</summary>
        public Lock Lock { get; } = new();

        /// <summary>How many wait; read without the lock.</summary>
        public int Count => Volatile.Read(ref _count);

        /// <summary>Whether nobody waits; read without the lock.</summary>
        public bool IsEmpty => Volatile.Read(ref _count) == 0;

        /// <summary>Appends <paramref name="waiter"/> (under <see cref="Lock"/>).</summary>
        /// <param name="waiter">A waiter not yet in a queue.</param>
        public void Add(Waiter waiter)
        {
            waiter.Node = _waiters.AddLast(waiter);

            // Interlocked, not a plain write: a full fence before the joiner's look at the servers.
            Interlocked.Increment(ref _count);
        }

        /// <summary>Takes <paramref name="waiter"/> out (under <see cref="Lock"/>).</summary>
        /// <param name="waiter">A waiter that joined this queue.</param>
        /// <returns>False when a release had already taken it out to hand it a server.</returns>
        public bool Remove(Waiter waiter)
        {
            if (waiter.Node?.List is null)
            {
                return false;
            }

            _waiters.Remove(waiter.Node);
            Interlocked.Decrement(ref _count);
            return true;
        }

        /// <summary>Gives a held slot of <paramref name="server"/> to the oldest waiter that can use it, or back to the server.</summary>
        /// <param name="server">A server whose slot the caller holds.</param>
        /// <param name="now">A <see cref="TimeProvider"/> timestamp, for the server's health.</param>
        public void HandOver(UpstreamServer server, long now)
        {
            lock (Lock)
            {
                for (var node = _waiters.First; node is not null; node = node.Next)
                {
                    var waiter = node.Value;
                    if (waiter.CanUse(server, now))
                    {
                        Remove(waiter);

                        // Completed under the lock, so a waiter whose wait ends now finds either itself
                        // in the queue or its task done. Continuations run asynchronously, off this lock.
                        waiter.TrySetResult(server);
                        return;
                    }
                }

                // Released under the lock, so a joiner's look at the servers comes before or after it, never during.
                server.Release();
            }
        }
    }

    /// <summary>One waiting request; its task completes with the server whose slot it was handed.</summary>
    internal sealed class Waiter(UpstreamGroup group, List<UpstreamServer>? tried)
        : TaskCompletionSource<UpstreamServer>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        /// <summary>Its place in the queue; detached once it left.</summary>
        public LinkedListNode<Waiter>? Node { get; set; }

        /// <summary>
        /// Whether this request may be sent to <paramref name="server"/>: a server of its own group (a
        /// reload may have dropped it), up, and not one this request already failed on.
        /// </summary>
        /// <param name="server">The server whose slot is on offer.</param>
        /// <param name="now">A <see cref="TimeProvider"/> timestamp.</param>
        /// <returns>True when the slot may be handed to this waiter.</returns>
        public bool CanUse(UpstreamServer server, long now) =>
            server.IsUp(now) && Array.IndexOf(group._all, server) >= 0 && (tried is null || !tried.Contains(server));
    }
}
