using System.Net;
using System.Net.Sockets;
using System.Text;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Faults;

/// <summary>
/// A client that takes a response slowly: a receive buffer of a few KiB, so the server's writes wait on
/// TCP's window, read <see cref="ReadSize"/> bytes at a time. It can stop reading and reset the
/// connection at any point, as a browser whose user closed the tab.
/// </summary>
internal sealed class SlowClient : IDisposable
{
    public const int ReadSize = 1024;

    private readonly Socket _socket;
    private readonly MemoryStream _received = new();
    private readonly byte[] _buffer = new byte[ReadSize];
    private int _headLength = -1;

    private SlowClient(Socket socket)
    {
        _socket = socket;
    }

    /// <summary>The status line and headers, once they arrived.</summary>
    public string Head { get; private set; } = "";

    /// <summary>The body bytes received so far (valid until the next read).</summary>
    public ReadOnlyMemory<byte> Body => _headLength < 0 ? default : _received.GetBuffer().AsMemory(_headLength, (int)_received.Length - _headLength);

    /// <summary>The response's Content-Length, once the head arrived (null when it has none).</summary>
    public long? ContentLength { get; private set; }

    public static async Task<SlowClient> ConnectAsync(int port)
    {
        // Before connecting, so the window TCP offers is small from the start.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        return new SlowClient(socket);
    }

    public async Task SendAsync(string text)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        await _socket.SendAsync(Encoding.Latin1.GetBytes(text), timeout.Token);
    }

    /// <summary>Sends <paramref name="count"/> bytes of a request body.</summary>
    public async Task SendBodyAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        await _socket.SendAsync(new byte[count], timeout.Token);
    }

    /// <summary>Reads until the head and at least <paramref name="bodyBytes"/> bytes of the body arrived; fails if the connection ends first.</summary>
    public async Task ReadAtLeastAsync(long bodyBytes)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        while (_headLength < 0 || _received.Length - _headLength < bodyBytes)
        {
            if (!await ReadSomeAsync(timeout.Token))
            {
                throw new Xunit.Sdk.XunitException($"The connection ended after {_received.Length} bytes: {Head}");
            }
        }
    }

    /// <summary>
    /// Reads until the body is complete (its Content-Length arrived) or the server ends the connection;
    /// returns whether the body is complete. A server that closed or reset the connection before the
    /// whole body arrived aborted the response.
    /// </summary>
    public async Task<bool> ReadResponseAsync()
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Long);
        while (_headLength < 0 || ContentLength is not { } length || _received.Length - _headLength < length)
        {
            try
            {
                if (!await ReadSomeAsync(timeout.Token))
                {
                    break;
                }
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                break;
            }
        }

        return _headLength >= 0 && ContentLength is { } expected && Body.Length == expected;
    }

    /// <summary>Aborts the connection with a TCP RST, as a client that crashed or gave up.</summary>
    public void Reset() => RawUpstream.Reset(_socket);

    public void Dispose()
    {
        _socket.Dispose();
        _received.Dispose();
    }

    private async Task<bool> ReadSomeAsync(CancellationToken cancellationToken)
    {
        var read = await _socket.ReceiveAsync(_buffer, cancellationToken);
        if (read == 0)
        {
            return false;
        }

        _received.Write(_buffer, 0, read);
        if (_headLength < 0 && Encoding.Latin1.GetString(_received.GetBuffer(), 0, (int)_received.Length).IndexOf("\r\n\r\n", StringComparison.Ordinal) is >= 0 and var end)
        {
            _headLength = end + 4;
            Head = Encoding.Latin1.GetString(_received.GetBuffer(), 0, end);
            foreach (var line in Head.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    ContentLength = long.Parse(line.AsSpan("Content-Length:".Length), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }

        return true;
    }
}
