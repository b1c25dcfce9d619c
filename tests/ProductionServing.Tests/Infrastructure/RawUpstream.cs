using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A misbehaving upstream on a raw socket (127.0.0.1, port 0): each accepted connection is handed to
/// <c>behave</c>, which reads and writes (or resets, stalls, closes) as the test needs.
/// </summary>
internal sealed class RawUpstream : IAsyncDisposable
{
    private static readonly List<Socket> ReservedPorts = [];

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connections;

    private RawUpstream(Func<Socket, CancellationToken, Task> behave)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync(behave);
    }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public static RawUpstream Start(Func<Socket, CancellationToken, Task> behave) => new(behave);

    /// <summary>
    /// An address that refuses connections: a socket bound to a free port but not listening (Linux
    /// answers a connect there with RST). The socket stays open for the test run, so no other test's
    /// server can be given that port and answer in its place.
    /// </summary>
    public static string RefusingAddress()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        lock (ReservedPorts)
        {
            ReservedPorts.Add(socket);
        }

        return $"http://127.0.0.1:{((IPEndPoint)socket.LocalEndPoint!).Port}";
    }

    /// <summary>Reads one request head (up to the blank line) and returns it.</summary>
    public static async Task<string> ReadHeadAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                break;
            }

            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                return text;
            }
        }

        return Encoding.ASCII.GetString(buffer, 0, length);
    }

    /// <summary>Closes the socket with a TCP RST instead of a FIN.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    private async Task AcceptAsync(Func<Socket, CancellationToken, Task> behave)
    {
        var handlers = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                handlers.Add(Task.Run(async () =>
                {
                    try
                    {
                        await behave(socket, _stop.Token);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                    {
                    }
                    finally
                    {
                        socket.Dispose();
                    }
                }));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(handlers).WaitAsync(TestTimeouts.Wait);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
