using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ProductionServing.Soak;

/// <summary>
/// A server the soak starts (the upstream, the host) on a free loopback port, its output appended to a
/// log file, stopped with SIGTERM (and killed if it has not exited 10 s later); also stopped when this
/// process gets SIGTERM or SIGINT, so an interrupted soak leaves nothing running.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly HashSet<ServerProcess> Running = [];

    // Without registrations SIGTERM ends the process at once, with no ProcessExit.
    private static readonly PosixSignalRegistration[] Signals =
        [PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => StopAll()), PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => StopAll())];

    private readonly Process _process;

    static ServerProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();

    private ServerProcess(string name, Process process, int port, string log)
    {
        Name = name;
        _process = process;
        Port = port;
        Log = log;
    }

    public string Name { get; }

    public int Port { get; }

    public string Log { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public Uri BaseAddress => new($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Picks a free port, then starts <paramref name="executable"/> with <paramref name="arguments"/> and <c>--urls</c> on it.</summary>
    public static ServerProcess Start(string name, string executable, string logFolder, params string[] arguments)
    {
        var port = FreePort();
        var log = Path.Combine(logFolder, name + ".log");
        // exec keeps the pid: the process we hold, and sample, is the server itself.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec \"$@\" >>'{log}' 2>&1");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(executable);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        var server = new ServerProcess(name, Process.Start(start) ?? throw new InvalidOperationException($"cannot start {executable}"), port, log);
        lock (Running)
        {
            Running.Add(server);
        }

        return server;
    }

    /// <summary>Waits (at most 60 s) until <c>GET <paramref name="path"/></c> answers 200.</summary>
    public async Task WaitReadyAsync(string path)
    {
        using var client = LoadMix.CreateClient(BaseAddress, drain: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}; see {Log}");
            }

            try
            {
                using var response = await client.GetAsync(path, timeout.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name} did not answer GET {path} within 60 s; see {Log}");
            }

            await Task.Delay(50, timeout.Token);
        }
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

        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }

        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static void StopAll()
    {
        ServerProcess[] left;
        lock (Running)
        {
            left = [.. Running];
        }

        foreach (var server in left)
        {
            server.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
