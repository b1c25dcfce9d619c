using System.Net;
using System.Net.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace ProductionServing.Proxy;

/// <summary>
/// Active health checks (nginx Plus <c>health_check</c>): every <c>HealthCheck.Interval</c>, a
/// <c>GET HealthCheck.Path</c> to each server of each upstream group that has a <c>HealthCheck</c>. A 2xx or
/// 3xx answer within <c>HealthCheck.Timeout</c> makes the server healthy; any other status, an error or a
/// timeout makes it unhealthy, and the balancers pass it over (<see cref="UpstreamServer.IsUp"/>).
/// </summary>
/// <remarks>
/// 1. A server is healthy until a check fails: nginx Plus without <c>mandatory</c> ("If the parameter is
///    not specified, the server will be initially considered healthy"). A group is checked as soon as it
///    appears, so a dead server is found within one round trip or <c>Timeout</c>, not one <c>Interval</c>.
/// 2. One check decides (nginx's defaults <c>fails=1 passes=1</c>), on the status alone (nginx's default
///    <c>match</c>: 2xx or 3xx); the body is not read.
/// 3. Each group has a periodic timer on the injected <see cref="TimeProvider"/>. The probes of a round
///    run concurrently, so a slow server delays no other. A group's rounds never overlap: a tick that
///    falls while a round still waits (a <c>Timeout</c> longer than the <c>Interval</c>) starts the next
///    round as soon as that one ends, so no tick is lost and none piles up.
/// 4. Reloads: a round looks its group up by name among the groups in force, so it probes the servers,
///    Path and Timeout configured now. <see cref="UpstreamRegistry"/> keeps the <see cref="UpstreamServer"/>
///    of an unchanged group and address, and with it the verdict. Each reload's build signals
///    (<see cref="UpstreamRegistry.Changed"/>) and the schedules follow at once: added and removed groups,
///    changed intervals (a changed interval checks at once, then runs on the new one). When a reload
///    removes a group's <c>HealthCheck</c>, its servers are healthy again (nothing else would ever clear a
///    failed check) and late answers to its probes are ignored.
/// 5. Probes use the group's own connection pool, like forwarded requests, but the server's own scheme
///    (a group may serve <c>Pass</c> URLs of either scheme), its authority as <c>Host</c>, and a
///    <c>User-Agent</c> of their own so that upstream access logs can tell them apart.
/// 6. Stopping cancels the probes in flight (a canceled probe gives no verdict) and the timers.
/// </remarks>
internal sealed class UpstreamHealthChecks(UpstreamRegistry registry, TimeProvider time, ILogger<UpstreamHealthChecks> logger)
    : BackgroundService
{
    /// <summary>The <c>User-Agent</c> of every probe.</summary>
    public const string UserAgent = "ProductionServing-HealthCheck";

    private readonly Dictionary<string, GroupSchedule> _schedules = new(StringComparer.OrdinalIgnoreCase);
    private int _roundsStarted;
    private int _busyGroups;

    private ILogger Logger => logger;

    /// <summary>
    /// Rounds started so far, all groups together. A round is counted before its probes are sent, in the
    /// call that starts it: for a tick, inside the timer callback, so with a fake clock (normally) before
    /// the <c>Advance</c> that fired it returns. Tests read it to prove that a tick did or did not come.
    /// </summary>
    internal int RoundsStarted => Volatile.Read(ref _roundsStarted);

    /// <summary>
    /// Groups with a round running (and maybe another due after it). 0 means that no probe is in flight:
    /// every probe sent so far has its answer (or error) and its verdict. Tests wait for 0 before they
    /// assert that nothing more happens.
    /// </summary>
    internal int BusyGroups => Volatile.Read(ref _busyGroups);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                // Taken before the groups are read, so a reload that lands while they are reconciled is not missed.
                var reloaded = registry.Changed;
                Reconcile(stoppingToken);
                await reloaded.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            var rounds = new List<Task>(_schedules.Count);
            foreach (var schedule in _schedules.Values)
            {
                schedule.Retire();
                rounds.Add(schedule.Round);
            }

            _schedules.Clear();

            // Their probes were canceled with stoppingToken, so they end now; none outlives the host.
            await Task.WhenAll(rounds).ConfigureAwait(false);
        }
    }

    /// <summary>Brings the schedules in line with the groups in force, after startup or a reload.</summary>
    private void Reconcile(CancellationToken stopping)
    {
        try
        {
            var groups = registry.Groups;
            var checkedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var group in groups)
            {
                if (group.Settings.HealthCheck is not { } check)
                {
                    continue;
                }

                checkedNames.Add(group.Name);
                if (!_schedules.TryGetValue(group.Name, out var schedule))
                {
                    schedule = new GroupSchedule(this, group.Name, check.Interval, stopping);
                    _schedules.Add(group.Name, schedule);
                    schedule.Start(time);
                }
                else if (schedule.Interval != check.Interval)
                {
                    schedule.Reschedule(check.Interval);
                }
            }

            foreach (var name in _schedules.Keys.Where(name => !checkedNames.Contains(name)).ToList())
            {
                _schedules[name].Retire();
                _schedules.Remove(name);
            }

            foreach (var group in groups)
            {
                if (group.Settings.HealthCheck is not null)
                {
                    continue;
                }

                foreach (var server in group.Servers)
                {
                    if (!server.ProbeHealthy)
                    {
                        server.ProbeHealthy = true;
                        HealthCheckLog.Removed(logger, group.Name, server.Name);
                    }
                }
            }

        }
        catch (Exception ex)
        {
            // Never out of the loop: the next reload tries again.
            HealthCheckLog.ScheduleFailed(logger, ex);
        }
    }

    private async Task RunRoundsAsync(GroupSchedule schedule)
    {
        Interlocked.Increment(ref _busyGroups);
        try
        {
            do
            {
                Interlocked.Increment(ref _roundsStarted);
                await RunRoundAsync(schedule).ConfigureAwait(false);
            }
            while (schedule.ContinueAfterRound());
        }
        finally
        {
            Interlocked.Decrement(ref _busyGroups);
        }
    }

    private async Task RunRoundAsync(GroupSchedule schedule)
    {
        try
        {
            var group = Find(schedule.Name);
            if (group?.Settings.HealthCheck is not { } check)
            {
                return;
            }

            var servers = group.Servers;
            var probes = new Task[servers.Count];
            for (var i = 0; i < probes.Length; i++)
            {
                probes[i] = ProbeAsync(group, check, servers[i], schedule);
            }

            await Task.WhenAll(probes).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            HealthCheckLog.RoundFailed(logger, schedule.Name, ex);
        }
    }

    private UpstreamGroup? Find(string name)
    {
        foreach (var group in registry.Groups)
        {
            if (string.Equals(group.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return group;
            }
        }

        return null;
    }

    private async Task ProbeAsync(UpstreamGroup group, HealthProbe check, UpstreamServer server, GroupSchedule schedule)
    {
        var status = 0;
        Exception? error = null;
        using var timeout = new CancellationTokenSource(check.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, schedule.Stopping);
        try
        {
            using var request = CreateRequest(server, check.Path);
            using var response = await group.Transport.Invoker.SendAsync(request, linked.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
        }
        catch (Exception) when (schedule.Stopping.IsCancellationRequested)
        {
            // Shutting down: no verdict.
            return;
        }
        catch (Exception ex)
        {
            // No answer within Timeout is told apart by status 0 without an error.
            error = timeout.IsCancellationRequested ? null : ex;
        }

        schedule.Report(server, check, status, error);
    }

    private static HttpRequestMessage CreateRequest(UpstreamServer server, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Origin(server.Address.Scheme) + path))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Host = server.Name;
        request.Headers.TryAddWithoutValidation(HeaderNames.UserAgent, UserAgent);
        return request;
    }

    /// <summary>One group's timer and the state that keeps its rounds apart.</summary>
    /// <remarks>
    /// The round state changes under a lock, not by compare-exchanges: with those, a tick could see a
    /// round running, that round end, and the tick's "pending" mark then find nothing to mark, so the tick
    /// was lost until the next Interval. Ticks come once per Interval per group: the lock never contends.
    /// </remarks>
    private sealed class GroupSchedule(UpstreamHealthChecks owner, string name, TimeSpan interval, CancellationToken stopping)
    {
        private readonly Lock _lock = new();
        private ITimer? _timer;
        private Task _round = Task.CompletedTask;
        private bool _running;
        private bool _tickPending;
        private bool _retired;

        public string Name { get; } = name;

        public TimeSpan Interval { get; private set; } = interval;

        public CancellationToken Stopping { get; } = stopping;

        /// <summary>The rounds started by the last tick that found the group idle (completed when none runs).</summary>
        public Task Round => Volatile.Read(ref _round);

        /// <summary>Starts the timer: the first round now, then one every <see cref="Interval"/>.</summary>
        /// <remarks>
        /// The first round is started here, not by a timer due now: a periodic timer of FakeTimeProvider
        /// (which the tests drive) takes its next tick from the time at which its callback returns, so a
        /// clock moved by a test while this thread was still returning from the first round's callback
        /// would have pushed the next round one Interval back (the rescheduling of dotnet/extensions#6810).
        /// </remarks>
        public void Start(TimeProvider time)
        {
            _timer = time.CreateTimer(static state => ((GroupSchedule)state!).Tick(), this, Interval, Interval);
            Tick();
        }

        /// <summary>A reload changed the interval: check now, then every <paramref name="interval"/>.</summary>
        public void Reschedule(TimeSpan interval)
        {
            Interval = interval;
            _timer?.Change(interval, interval);
            Tick();
        }

        /// <summary>The group left the configuration or lost its HealthCheck, or the host is stopping.</summary>
        public void Retire()
        {
            lock (_lock)
            {
                _retired = true;
            }

            _timer?.Dispose();
        }

        /// <summary>Called as a round ends: true when a tick fell during it, so another round is due now.</summary>
        public bool ContinueAfterRound()
        {
            lock (_lock)
            {
                var again = _tickPending && !_retired && !Stopping.IsCancellationRequested;
                _tickPending = false;
                _running = again;
                return again;
            }
        }

        /// <summary>
        /// Applies a probe's verdict (2xx or 3xx is healthy; <paramref name="status"/> 0 means no answer:
        /// <paramref name="error"/> when the server could not be reached, neither when <c>Timeout</c> passed)
        /// and logs a change, unless the schedule was retired meanwhile.
        /// </summary>
        public void Report(UpstreamServer server, HealthProbe check, int status, Exception? error)
        {
            var healthy = status is >= 200 and < 400;
            lock (_lock)
            {
                if (_retired || server.ProbeHealthy == healthy)
                {
                    return;
                }

                server.ProbeHealthy = healthy;
            }

            var logger = owner.Logger;
            if (healthy)
            {
                HealthCheckLog.Passed(logger, Name, server.Name, check.Path, status);
            }
            else if (status != 0)
            {
                HealthCheckLog.Failed(logger, Name, server.Name, check.Path, status);
            }
            else if (error is null)
            {
                HealthCheckLog.TimedOut(logger, Name, server.Name, check.Path, check.Timeout);
            }
            else
            {
                HealthCheckLog.Unreachable(logger, Name, server.Name, check.Path, ProxyLog.ErrorOf(error), error);
            }
        }

        private void Tick()
        {
            // Idle → start a round; running → leave one tick pending for when it ends; pending → nothing more.
            lock (_lock)
            {
                if (_retired || Stopping.IsCancellationRequested)
                {
                    return;
                }

                if (_running)
                {
                    _tickPending = true;
                    return;
                }

                _running = true;
            }

            // Outside the lock: the round's probes start here, and Report takes it.
            Volatile.Write(ref _round, owner.RunRoundsAsync(this));
        }
    }
}
