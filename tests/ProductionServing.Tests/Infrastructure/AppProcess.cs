using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// tests/ProductionServing.ShutdownApp (or samples/QuickStart) in a process of its own (the test project
/// references both, so they are built and copied beside the tests): started with arguments, ShutdownApp
/// listening on 127.0.0.1 port 0 (read from its <c>port N</c> line), driven through stdin, watched line
/// by line on stdout, stopped with SIGTERM.
/// </summary>
internal sealed partial class AppProcess : IDisposable
{
    private const int SIGTERM = 15;

    private readonly Process _process;
    private readonly Lock _lock = new();
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _waiters = [];
    private bool _ended;

    private AppProcess(Process process)
    {
        _process = process;
    }

    public int Port { get; private set; }

    /// <summary>Every line written to stdout so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }
    }

    public static async Task<AppProcess> StartAsync(params string[] arguments)
    {
        var app = Launch("ProductionServing.ShutdownApp.dll", arguments);
        try
        {
            var line = await app.LineAsync(static line => line.StartsWith("port ", StringComparison.Ordinal));
            app.Port = int.Parse(line.AsSpan("port ".Length), CultureInfo.InvariantCulture);
        }
        catch
        {
            app.Dispose();
            throw;
        }

        return app;
    }

    /// <summary>
    /// samples/QuickStart in a process of its own (built beside the tests, as the test project references it),
    /// with <paramref name="arguments"/> as configuration (<c>--contentRoot</c>, <c>--Urls</c>, <c>--ProductionServing:…</c>);
    /// complete once the host has started. Its log (the console logger) is the output.
    /// </summary>
    public static async Task<AppProcess> StartQuickStartAsync(params string[] arguments)
    {
        var app = Launch("QuickStart.dll", arguments);
        try
        {
            await app.LineAsync(static line => line.Contains("Application started.", StringComparison.Ordinal));
        }
        catch
        {
            app.Dispose();
            throw;
        }

        return app;
    }

    private static AppProcess Launch(string assembly, string[] arguments)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("ASPNETCORE_URLS");
        info.Environment.Remove("DOTNET_URLS");
        var app = new AppProcess(new Process { StartInfo = info });
        app._process.OutputDataReceived += (_, e) => app.OnLine(e.Data);
        app._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                app.OnLine("stderr: " + e.Data);
            }
        };
        app._process.Start();
        app._process.BeginOutputReadLine();
        app._process.BeginErrorReadLine();
        return app;
    }

    /// <summary>Completes with the first stdout line (already seen or yet to come) that <paramref name="match"/> accepts; fails after 30 s or when stdout ends first.</summary>
    public Task<string> LineAsync(Func<string, bool> match)
    {
        TaskCompletionSource<string> seen;
        lock (_lock)
        {
            foreach (var line in _lines)
            {
                if (match(line))
                {
                    return Task.FromResult(line);
                }
            }

            if (_ended)
            {
                return Task.FromException<string>(new Xunit.Sdk.XunitException("The app's output ended before the line came:\n" + string.Join('\n', _lines)));
            }

            seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, seen));
        }

        return seen.Task.WaitAsync(TestTimeouts.Long);
    }

    /// <summary>Completes when the app prints exactly <paramref name="line"/>.</summary>
    public Task LineAsync(string line) => LineAsync(l => l == line);

    /// <summary>Writes a line to the app's stdin.</summary>
    public Task SendAsync(string line)
    {
        _process.StandardInput.WriteLine(line);
        return _process.StandardInput.FlushAsync().WaitAsync(TestTimeouts.Long);
    }

    /// <summary>Sends SIGTERM, as a container runtime or systemd does to stop a service.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, SIGTERM) != 0)
        {
            throw new InvalidOperationException("kill(2) failed: errno " + Marshal.GetLastPInvokeError().ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Waits (at most <paramref name="bound"/>) for the process to exit; returns its exit code.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"The app did not exit within {bound}:\n" + string.Join('\n', Lines));
        }

        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TestTimeouts.Long);
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        List<TaskCompletionSource<string>>? matched = null;
        List<TaskCompletionSource<string>>? orphaned = null;
        lock (_lock)
        {
            if (line is null)
            {
                _ended = true; // stdout ended: the process exited
                orphaned = [];
                foreach (var waiter in _waiters)
                {
                    orphaned.Add(waiter.Seen);
                }

                _waiters.Clear();
            }
            else
            {
                _lines.Add(line);
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Match(line))
                    {
                        (matched ??= []).Add(_waiters[i].Seen);
                        _waiters.RemoveAt(i);
                    }
                }
            }
        }

        foreach (var seen in matched ?? [])
        {
            seen.TrySetResult(line!);
        }

        foreach (var seen in orphaned ?? [])
        {
            seen.TrySetException(new Xunit.Sdk.XunitException("The app's output ended before the line came:\n" + string.Join('\n', Lines)));
        }
    }

    /// <summary>The <c>dotnet</c> host running the tests (testhost runs under it), else the one the SDK names, else PATH's.</summary>
    private static string DotnetHost() =>
        Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath!
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
