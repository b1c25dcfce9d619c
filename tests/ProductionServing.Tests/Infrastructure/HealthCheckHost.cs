using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Proxy;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// What active health check tests share: a configuration with one checked group <c>backend</c> behind
/// <c>/</c>, a <see cref="ServingHost"/> on a <see cref="FakeTimeProvider"/>, bounded waits for the
/// verdicts, which land in the background after a probe's answer is read, and the scheduler's own
/// counters for what must not happen (a request of the test's own cannot prove that no probe is on its
/// way: it may overtake one).
/// </summary>
internal static class HealthCheckHost
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    // Longer than Interval on purpose. The fake clock jumps while real answers take real time, so a
    // test that advanced by more than Timeout could expire a probe whose answer is on its way. Rounds
    // never overlap, so once the next round's probe has arrived the previous round is over; advancing
    // one Interval at a time then never expires a probe that is not meant to.
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(8);

    public const string HealthCheck = """, "HealthCheck": { "Path": "/healthz", "Interval": "00:00:05", "Timeout": "00:00:08" }""";

    /// <summary>
    /// <c>/</c> proxied to the group <c>backend</c> over <paramref name="servers"/> (entries of <c>Servers</c>),
    /// checked as <paramref name="healthCheck"/> says; <paramref name="locations"/> and <paramref name="upstreams"/>
    /// add more, each starting with a comma.
    /// </summary>
    public static string Config(string servers, string healthCheck = HealthCheck, string locations = "", string upstreams = "") =>
        ServingJson.Config(
            ServingJson.ProxyLocation("/", "http://backend") + locations,
            $$""" "backend": { "Servers": [ {{servers}} ]{{healthCheck}} }{{upstreams}}""");

    public static string Servers(params HealthCheckedUpstream[] upstreams) =>
        string.Join(", ", upstreams.Select(u => ServingJson.Server(u.Address)));

    public static Task<ServingHost> StartAsync(string json, FakeTimeProvider time) =>
        ServingHost.StartAsync(json, services: services => services.AddSingleton<TimeProvider>(time));

    /// <summary>The live state of <paramref name="upstream"/> in group <c>backend</c> of the snapshot in force.</summary>
    public static UpstreamServer ServerOf(ServingHost host, HealthCheckedUpstream upstream) =>
        host.App.Services.GetRequiredService<UpstreamRegistry>().Groups.Single(g => g.Name == "backend")
            .Servers.Single(s => s.Address.Port == upstream.Port);

    /// <summary>The health check service of <paramref name="host"/>, whose round counters tell what the scheduler did.</summary>
    public static UpstreamHealthChecks ChecksOf(ServingHost host) =>
        host.App.Services.GetServices<IHostedService>().OfType<UpstreamHealthChecks>().Single();

    /// <summary>Waits until no round runs: every probe sent so far is answered, judged and counted by its upstream.</summary>
    public static Task IdleAsync(UpstreamHealthChecks checks) =>
        Poll.UntilAsync(() => checks.BusyGroups == 0, "no health check round runs");

    /// <summary>
    /// From an idle scheduler, advances the clock by <paramref name="delta"/> and asserts that no round
    /// started and <paramref name="upstreams"/> got no probe. A tick that fires in <c>Advance</c> starts its
    /// round, and counts it, before <c>Advance</c> returns (FakeTimeProvider runs a due timer on the thread
    /// inside its timer loop, and with the scheduler idle that is this one), so no wait can be too short.
    /// </summary>
    public static async Task AdvanceWithoutARoundAsync(UpstreamHealthChecks checks, FakeTimeProvider time, TimeSpan delta,
        params HealthCheckedUpstream[] upstreams)
    {
        await IdleAsync(checks);
        var rounds = checks.RoundsStarted;
        var probes = upstreams.Select(u => u.ProbeCount).ToArray();

        time.Advance(delta);

        Assert.Equal(rounds, checks.RoundsStarted);
        Assert.Equal(probes, upstreams.Select(u => u.ProbeCount).ToArray());
    }

    /// <summary>The bodies of <paramref name="count"/> proxied GETs, in order (each upstream answers its name).</summary>
    public static async Task<string[]> GetBodiesAsync(ServingHost host, int count)
    {
        var bodies = new string[count];
        for (var i = 0; i < count; i++)
        {
            bodies[i] = await host.Client.GetStringAsync(new Uri($"/request/{i}", UriKind.Relative));
        }

        return bodies;
    }

    /// <summary>The one record of event <paramref name="id"/> about <paramref name="server"/>, once it is written (just after the verdict).</summary>
    public static async Task<FakeLogRecord> LoggedAsync(ServingHost host, int id, string server)
    {
        await host.Logs.WaitForEventAsync(id, "Server", server);
        return Assert.Single(host.Logs.GetSnapshot(), r => r.Id.Id == id && r.Field("Server") == server);
    }
}
