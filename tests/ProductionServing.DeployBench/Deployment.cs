using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ProductionServing.DeployBench;

/// <summary>
/// One running deployment: its processes (nginx's master and worker plus the app for classic, the app
/// alone for the library), all pinned with <c>taskset</c> to the server core, and the port clients use.
/// Started fresh for every measurement that needs a cold start; stopped with SIGTERM.
/// </summary>
internal sealed class Deployment : IDisposable
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    // Every deployment not yet disposed: stopped at exit too, so a runner stopped with SIGTERM or
    // Ctrl-C leaves no nginx or app behind, pinned to the server core.
    private static readonly HashSet<Deployment> Running = [];

    // Without registrations SIGTERM ends the process at once, with no ProcessExit.
    private static readonly PosixSignalRegistration[] Signals =
        [PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => StopAll()), PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => StopAll())];

    private readonly List<Process> _processes = [];

    static Deployment() => AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
    private readonly string _logs;

    private Deployment(Variant variant, int port, string logs)
    {
        Variant = variant;
        Port = port;
        _logs = logs;
    }

    public Variant Variant { get; }

    public int Port { get; }

    public IPEndPoint Endpoint => new(IPAddress.Loopback, Port);

    /// <summary>The <see cref="Stopwatch"/> timestamp just before the first process was started.</summary>
    public long StartedAt { get; private set; }

    public static Deployment Start(Variant variant, Settings settings, string name)
    {
        var logs = Path.Combine(settings.Temp, "logs");
        Directory.CreateDirectory(logs);
        var deployment = new Deployment(variant, FreePort(), Path.Combine(logs, name));
        lock (Running)
        {
            Running.Add(deployment);
        }

        deployment.StartedAt = Stopwatch.GetTimestamp();
        var app = variant.Published == "r2r" ? settings.AppReadyToRun : settings.AppNormal;
        if (variant.Kind == DeploymentKind.Classic)
        {
            var appPort = FreePort();
            deployment.Launch(settings, app, variant.Environment, "--mode", "classic", "--urls", $"http://127.0.0.1:{appPort}");
            var config = NginxConfig.Write(settings, name, deployment.Port, appPort);
            deployment.Launch(settings, settings.Nginx, variant.Environment, "-p", Path.GetDirectoryName(config)!, "-c", config, "-e", config + ".error.log");
        }
        else
        {
            deployment.Launch(settings, app, variant.Environment,
                "--mode", "library", "--root", settings.Assets, "--urls", $"http://127.0.0.1:{deployment.Port}");
        }

        return deployment;
    }

    /// <summary>
    /// Waits (at most 60 s) until <c>GET /api/ping</c> through the deployment's port answers 200: the
    /// whole chain is up (for classic, nginx and the app behind it). Then <paramref name="asset"/> must
    /// answer 200 too, or the deployment cannot serve the files (nginx's worker unable to read them, for
    /// one) and the run stops instead of measuring errors.
    /// </summary>
    public async Task WaitReadyAsync(string asset)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ping = "GET /api/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();
        while (true)
        {
            if (_processes.FirstOrDefault(p => p.HasExited) is { } exited)
            {
                throw new InvalidOperationException($"{Variant.Name}: {exited.StartInfo.ArgumentList[^1]} exited with {exited.ExitCode}; see {_logs}.log");
            }

            try
            {
                using var connection = await LoadConnection.TryConnectAsync(Endpoint, timeout.Token);
                if (connection is not null && await connection.SendAsync(ping, timeout.Token) == 200)
                {
                    var status = await connection.SendAsync(System.Text.Encoding.ASCII.GetBytes($"GET {asset} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), timeout.Token);
                    if (status != 200)
                    {
                        throw new InvalidOperationException($"{Variant.Name}: GET {asset} answered {status}; see {_logs}.log (nginx: its error.log under nginx/)");
                    }

                    return;
                }
            }
            catch (IOException)
            {
                // nginx is up but the app is not yet (502), or a connection was reset: try again.
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Variant.Name} did not answer GET /api/ping within 60 s; see {_logs}.log");
            }

            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>
    /// User plus system CPU time, in seconds, of every process of the deployment (nginx's workers
    /// included) from <c>/proc/[pid]/stat</c> (fields 14 and 15, in clock ticks of 1/100 s: USER_HZ on
    /// Linux x86-64, see proc(5)).
    /// </summary>
    public double CpuSeconds()
    {
        long ticks = 0;
        foreach (var pid in Pids())
        {
            if (ReadStat(pid) is { } stat)
            {
                ticks += stat.UserTicks + stat.SystemTicks;
            }
        }

        return ticks / 100.0;
    }

    public void Dispose()
    {
        lock (Running)
        {
            if (!Running.Remove(this))
            {
                return;
            }
        }

        // nginx's master first (SIGTERM: a fast shutdown that stops its worker), then the app.
        foreach (var process in Enumerable.Reverse(_processes))
        {
            if (!process.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
            }

            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }
    }

    private static void StopAll()
    {
        Deployment[] left;
        lock (Running)
        {
            left = [.. Running];
        }

        foreach (var deployment in left)
        {
            deployment.Dispose();
        }
    }

    private void Launch(Settings settings, string executable, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        // exec keeps the pid: the process we hold is the server itself, pinned by taskset, with its
        // output appended to the deployment's log.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec \"$@\" >>'{_logs}.log' 2>&1");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add("taskset");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(settings.ServerCpu);
        start.ArgumentList.Add(executable);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // tests/load/deploy sets this for the generator (this process); a server gets it only from its variant.
        start.Environment.Remove(InlineCompletions);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        _processes.Add(Process.Start(start) ?? throw new InvalidOperationException($"cannot start {executable}"));
    }

    private HashSet<int> Pids()
    {
        var ours = _processes.Where(p => !p.HasExited).Select(p => p.Id).ToHashSet();
        var all = new HashSet<int>(ours);

        // nginx's worker is the master's child: find it by its parent in /proc/[pid]/stat.
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && ReadStat(pid) is { } stat && ours.Contains(stat.ParentPid))
            {
                all.Add(pid);
            }
        }

        return all;
    }

    private static (int ParentPid, long UserTicks, long SystemTicks)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may hold spaces: split after its last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[1], CultureInfo.InvariantCulture),
            long.Parse(fields[11], CultureInfo.InvariantCulture), long.Parse(fields[12], CultureInfo.InvariantCulture));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
