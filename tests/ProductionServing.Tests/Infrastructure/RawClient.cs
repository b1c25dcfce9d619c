using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A client on a raw socket, for what <see cref="HttpClient"/> hides: the exact bytes of a response, how
/// the connection ended (a clean close or a reset), and aborting a request halfway.
/// </summary>
internal sealed class RawClient : IDisposable
{
    private readonly Socket _socket;
    private readonly StringBuilder _received = new();
    private readonly byte[] _buffer = new byte[16 * 1024];

    private RawClient(Socket socket)
    {
        _socket = socket;
    }

    /// <summary>Everything received so far, one char per byte (Latin-1).</summary>
    public string Received => _received.ToString();

    public static async Task<RawClient> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        return new RawClient(socket);
    }

    public async Task SendAsync(string text)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        await _socket.SendAsync(Encoding.Latin1.GetBytes(text), timeout.Token);
    }

    /// <summary>
    /// Sends <paramref name="block"/> until <paramref name="total"/> bytes went out or a send fails (the
    /// server answered and closed, or the test reset the connection); never throws for that.
    /// </summary>
    public async Task SendUntilFailureAsync(byte[] block, long total)
    {
        try
        {
            for (long sent = 0; sent < total; sent += block.Length)
            {
                await _socket.SendAsync(block);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Reads until <see cref="Received"/> contains <paramref name="marker"/>, and returns it; fails if the connection ends first.</summary>
    public async Task<string> ReadUntilAsync(string marker)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        while (!Received.Contains(marker, StringComparison.Ordinal))
        {
            var read = await _socket.ReceiveAsync(_buffer, timeout.Token);
            if (read == 0)
            {
                throw new Xunit.Sdk.XunitException($"The connection closed before '{marker}' arrived; received: {Received}");
            }

            _received.Append(Encoding.Latin1.GetString(_buffer, 0, read));
        }

        return Received;
    }

    /// <summary>Reads until the server ends the connection; true when it reset it, false for a clean close.</summary>
    public async Task<bool> ReadToCloseAsync()
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        try
        {
            int read;
            while ((read = await _socket.ReceiveAsync(_buffer, timeout.Token)) != 0)
            {
                _received.Append(Encoding.Latin1.GetString(_buffer, 0, read));
            }

            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    /// <summary>Aborts the connection with a TCP RST, as a client that crashed or gave up.</summary>
    public void Reset() => RawUpstream.Reset(_socket);

    public void Dispose() => _socket.Dispose();
}
