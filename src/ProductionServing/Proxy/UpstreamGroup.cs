using Microsoft.AspNetCore.Http;

namespace ProductionServing.Proxy;

/// <summary>
/// A compiled upstream group: its servers split into primaries and backups, one balancer per tier,
/// the shared connection pool, and the bounded wait for a server under <c>MaxConnections</c>
/// (nginx Plus <c>max_conns</c> with <c>queue</c>). A <c>Pass</c> to a plain host is a group of one.
/// </summary>
internal sealed class UpstreamGroup
{
    private readonly Balancer _primaries;
    private readonly Balancer? _backups;
    private readonly UpstreamServer[] _all;
    private readonly LinkedList<TaskCompletionSource<bool>> _waiters = new();
    private readonly bool _limited;

    public UpstreamGroup(string name, UpstreamOptions options, UpstreamServer[] servers, UpstreamTransport transport, TimeProvider time)
    {
        Name = name;
        Options = options;
        Transport = transport;
        Time = time;
        Timeouts = new TimeoutSourcePool(time);
        _all = servers;
        var primaries = Array.FindAll(servers, static s => !s.Backup);
        var backups = Array.FindAll(servers, static s => s.Backup);
        _primaries = Balancer.Create(options, primaries);
        _backups = backups.Length == 0 ? null : Balancer.Create(options, backups);
        _limited = Array.Exists(servers, static s => s.MaxConnections != 0);
    }

    /// <summary>The group's name: a key of <c>Upstreams</c>, or the host of a plain <c>Pass</c>.</summary>
    public string Name { get; }

    /// <summary>The group's settings (timeouts, retries, queue, health).</summary>
    public UpstreamOptions Options { get; }

    /// <summary>The connection pool shared by the group's servers.</summary>
    public UpstreamTransport Transport { get; }

    /// <summary>The clock of passive health and queue timeouts.</summary>
    public TimeProvider Time { get; }

    /// <summary>Reusable sources for the per-attempt ReadTimeout.</summary>
    public TimeoutSourcePool Timeouts { get; }

    /// <summary>Every server of the group, primaries and backups, in configuration order.</summary>
    public IReadOnlyList<UpstreamServer> Servers => _all;

    /// <summary>
    /// Acquires a server for one attempt: a primary, else a backup (nginx uses backups when no
    /// primary can take the request). When every server that is up is at its connection limit, waits
    /// in the group's bounded queue. Completes synchronously unless it has to wait.
    /// </summary>
    public ValueTask<(UpstreamServer? Server, AdmissionFailure Failure)> AcquireAsync(
        HttpContext context, string path, List<UpstreamServer>? tried)
    {
        var failure = TryAcquire(context, path, tried, out var server);
        return failure == AdmissionFailure.QueueFull && Options.QueueLimit > 0
            ? WaitAsync(context, path, tried)
            : new ValueTask<(UpstreamServer?, AdmissionFailure)>((server, failure));
    }

    /// <summary>Ends an attempt's hold on <paramref name="server"/> and wakes the oldest waiter.</summary>
    public void Release(UpstreamServer server)
    {
        server.Release();
        if (_limited)
        {
            WakeOne();
        }
    }

    private AdmissionFailure TryAcquire(HttpContext context, string path, List<UpstreamServer>? tried, out UpstreamServer? server)
    {
        var now = Time.GetTimestamp();

        // A pick can lose the last slot to a concurrent request; a few rounds settle it.
        for (var round = 0; round < 4; round++)
        {
            server = _primaries.Pick(context, path, tried, now) ?? _backups?.Pick(context, path, tried, now);
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
                // Up and untried, yet not picked: it is at its MaxConnections.
                return AdmissionFailure.QueueFull;
            }
        }

        return up ? AdmissionFailure.AllTried : AdmissionFailure.NoLiveServer;
    }

    private async ValueTask<(UpstreamServer?, AdmissionFailure)> WaitAsync(HttpContext context, string path, List<UpstreamServer>? tried)
    {
        using var timeout = new CancellationTokenSource(Options.QueueTimeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, context.RequestAborted);
        while (true)
        {
            var waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            LinkedListNode<TaskCompletionSource<bool>> node;
            lock (_waiters)
            {
                if (_waiters.Count >= Options.QueueLimit)
                {
                    return (null, AdmissionFailure.QueueFull);
                }

                node = _waiters.AddLast(waiter);
            }

            // A slot freed between the failed pick and joining the queue would wake nobody: look again.
            var failure = TryAcquire(context, path, tried, out var server);
            if (failure != AdmissionFailure.QueueFull)
            {
                if (!Remove(node))
                {
                    WakeOne();
                }

                return (server, failure);
            }

            try
            {
                await waiter.Task.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                if (!Remove(node))
                {
                    // Woken as the wait ended: pass the freed slot on to the next waiter.
                    WakeOne();
                }

                return (null, context.RequestAborted.IsCancellationRequested ? AdmissionFailure.Canceled : AdmissionFailure.QueueTimeout);
            }

            failure = TryAcquire(context, path, tried, out server);
            if (failure != AdmissionFailure.QueueFull)
            {
                return (server, failure);
            }
        }
    }

    /// <summary>Takes a waiter out of the queue; false when a release had already taken it out to wake it.</summary>
    private bool Remove(LinkedListNode<TaskCompletionSource<bool>> node)
    {
        lock (_waiters)
        {
            if (node.List is null)
            {
                return false;
            }

            _waiters.Remove(node);
            return true;
        }
    }

    private void WakeOne()
    {
        TaskCompletionSource<bool>? waiter = null;
        lock (_waiters)
        {
            if (_waiters.First is { } first)
            {
                waiter = first.Value;
                _waiters.RemoveFirst();
            }
        }

        waiter?.TrySetResult(true);
    }
}
