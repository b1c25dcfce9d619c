using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ProductionServing.DeployBench;

/// <summary>
/// One keep-alive HTTP/1.1 connection of the load generator: sends a prebuilt request and reads the
/// whole response (Content-Length or chunked, RFC 9112 §6), discarding the body. One request at a
/// time, as a browser connection without pipelining does. Bodies are not kept, so a 64 KiB file costs
/// the generator a few receives and no copies.
/// </summary>
internal sealed class LoadConnection : IDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] LineEnd = "\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private LoadConnection(Socket socket) => _socket = socket;

    /// <summary>Connects, or returns null when the server refuses or is not listening yet.</summary>
    public static async Task<LoadConnection?> TryConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            return new LoadConnection(socket);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // Refused (not listening yet), or the run ended while a connect was pending.
            socket.Dispose();
            return null;
        }
    }

    /// <summary>
    /// Sends the request and reads its response. Returns the status code; throws
    /// <see cref="IOException"/> when the connection breaks or the response is malformed (the caller
    /// counts an error and reconnects).
    /// </summary>
    public async ValueTask<int> SendAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        try
        {
            while (!request.IsEmpty)
            {
                var sent = await _socket.SendAsync(request, SocketFlags.None, cancellationToken);
                request = request[sent..];
            }

            return await ReadResponseAsync(cancellationToken);
        }
        catch (SocketException ex)
        {
            throw new IOException(ex.Message, ex);
        }
    }

    public void Dispose() => _socket.Dispose();

    private async ValueTask<int> ReadResponseAsync(CancellationToken cancellationToken)
    {
        int headerLength;
        while ((headerLength = _buffer.AsSpan(_start, _end - _start).IndexOf(HeaderEnd)) < 0)
        {
            await FillAsync(cancellationToken);
        }

        var (status, contentLength, chunked, close) = ParseHead(_buffer.AsSpan(_start, headerLength));
        _start += headerLength + HeaderEnd.Length;
        if (chunked)
        {
            await SkipChunkedAsync(cancellationToken);
        }
        else
        {
            await SkipAsync(contentLength, cancellationToken);
        }

        if (close)
        {
            throw new IOException("the server closed the connection (Connection: close)");
        }

        return status;
    }

    private static (int Status, long ContentLength, bool Chunked, bool Close) ParseHead(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.1 200 OK": the status is the three digits after the first space.
        if (head.Length < 12 || !head.StartsWith("HTTP/1."u8) || head[8] != (byte)' ')
        {
            throw new IOException("malformed status line");
        }

        var status = ((head[9] - '0') * 100) + ((head[10] - '0') * 10) + (head[11] - '0');
        long contentLength = 0;
        bool chunked = false, close = false;
        var rest = head;
        while (rest.IndexOf(LineEnd) is var lineEnd and >= 0)
        {
            rest = rest[(lineEnd + LineEnd.Length)..];
            var line = rest.IndexOf(LineEnd) is var next and >= 0 ? rest[..next] : rest;
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon];
            var value = Encoding.ASCII.GetString(line[(colon + 1)..]).Trim();
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                contentLength = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                chunked = value.Contains("chunked", StringComparison.OrdinalIgnoreCase);
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                close = value.Contains("close", StringComparison.OrdinalIgnoreCase);
            }
        }

        // 1xx, 204 and 304 have no body whatever the headers say (RFC 9112 §6.3).
        if (status is < 200 or 204 or 304)
        {
            contentLength = 0;
            chunked = false;
        }

        return (status, contentLength, chunked, close);
    }

    private async ValueTask SkipChunkedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            var semicolon = line.IndexOf(';');
            var size = Convert.ToInt64(semicolon >= 0 ? line[..semicolon].Trim() : line.Trim(), 16);
            if (size == 0)
            {
                // Trailer fields, if any, then the empty line that ends the message.
                while ((await ReadLineAsync(cancellationToken)).Length > 0)
                {
                }

                return;
            }

            await SkipAsync(size + LineEnd.Length, cancellationToken);
        }
    }

    private async ValueTask<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        int length;
        while ((length = _buffer.AsSpan(_start, _end - _start).IndexOf(LineEnd)) < 0)
        {
            await FillAsync(cancellationToken);
        }

        var line = Encoding.ASCII.GetString(_buffer, _start, length);
        _start += length + LineEnd.Length;
        return line;
    }

    private async ValueTask SkipAsync(long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            var take = (int)Math.Min(count, _end - _start);
            _start += take;
            count -= take;
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            if (_start == 0)
            {
                throw new IOException("response head larger than the receive buffer");
            }

            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var received = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        if (received == 0)
        {
            throw new IOException("the server closed the connection");
        }

        _end += received;
    }
}
