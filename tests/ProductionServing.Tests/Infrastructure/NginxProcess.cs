using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A real nginx (Debian's package) for side-by-side tests: one process (<c>master_process off</c>), in the
/// foreground, with its prefix, pid and temporary files in a folder of the test's, so it runs as any user.
/// </summary>
internal sealed class NginxProcess : IAsyncDisposable
{
    /// <summary>Where Debian installs nginx.</summary>
    public const string Executable = "/usr/sbin/nginx";

    private readonly Process _process;
    private readonly StringBuilder _errors;

    private NginxProcess(Process process, StringBuilder errors, int port)
    {
        (_process, _errors, Port) = (process, errors, port);
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TestTimeouts.Wait,
        };
    }

    public int Port { get; }

    /// <summary>A client of this nginx that follows no redirects and decompresses nothing.</summary>
    public HttpClient Client { get; }

    public static bool IsInstalled => File.Exists(Executable);

    /// <summary>A loopback port free now, for a server that cannot listen on port 0 (nginx) or must come back on the same one (a restarted process).</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// A configuration with nginx's temporary folders in <paramref name="prefix"/>, included on its <c>http {</c> line
    /// (so the lines keep their numbers), so that nginx needs no folder of its own; the importer needs nothing of them.
    /// </summary>
    public static string WithTempPaths(string config, string prefix)
    {
        var paths = Path.Combine(prefix, "temp-paths.conf");
        File.WriteAllText(paths, string.Join('\n', ((string[])["client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"])
            .Select(name => $"{name} {Path.Combine(prefix, name)};")));
        var http = config.IndexOf("http {", StringComparison.Ordinal) + "http {".Length;
        return config[..http] + $" include {paths};" + config[http..];
    }

    /// <summary>Starts nginx on <paramref name="config"/>, which listens on 127.0.0.1:<paramref name="port"/>, and waits until it accepts.</summary>
    public static async Task<NginxProcess> StartAsync(string config, string prefix, int port)
    {
        Directory.CreateDirectory(Path.Combine(prefix, "logs"));
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-p", prefix + "/", "-c", config, "-e", "stderr", "-g", $"daemon off; master_process off; pid {Path.Combine(prefix, "nginx.pid")};"])
        {
            start.ArgumentList.Add(arg);
        }

        var errors = new StringBuilder();
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var nginx = new NginxProcess(process, errors, port);
        await Poll.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new Xunit.Sdk.XunitException($"nginx exited ({process.ExitCode}): {nginx.Errors}");
            }

            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, $"nginx listening on {port}");
        return nginx;
    }

    /// <summary>What nginx wrote on standard error.</summary>
    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync().WaitAsync(TestTimeouts.Wait);
        _process.Dispose();
    }
}
