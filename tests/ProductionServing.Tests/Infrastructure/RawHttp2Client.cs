using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// One HTTP/2 request (cleartext, prior knowledge) on a raw socket, for what <see cref="HttpClient"/>
/// will not send: connection-specific fields such as <c>Connection</c> or <c>Keep-Alive</c>. The header
/// block is HPACK literals without indexing and without Huffman coding (RFC 7541 §6.2.2), so no encoder
/// state is involved.
/// </summary>
internal static class RawHttp2Client
{
    private const byte Headers = 0x1;
    private const byte RstStream = 0x3;
    private const byte Settings = 0x4;
    private const byte GoAway = 0x7;
    private const byte EndStream = 0x1;
    private const byte EndHeaders = 0x4;

    /// <summary>
    /// Sends <c>GET path</c> on stream 1 with <paramref name="fields"/> (lower-case names) and reads until
    /// the server answers it: with response headers (<see cref="Http2Answer.Status"/> from HPACK's static
    /// table, 0 when Kestrel encoded it otherwise), a RST_STREAM or a GOAWAY (with its error code).
    /// </summary>
    public static async Task<Http2Answer> GetAsync(int port, string path, params (string Name, string Value)[] fields)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);

        var block = new List<byte>();
        foreach (var (name, value) in (ReadOnlySpan<(string, string)>)[(":method", "GET"), (":scheme", "http"), (":path", path), (":authority", "localhost"), .. fields])
        {
            block.Add(0x00);
            AddString(block, name);
            AddString(block, value);
        }

        var request = new List<byte>(Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        AddFrameHeader(request, 0, Settings, 0, 0);
        AddFrameHeader(request, block.Count, Headers, EndHeaders | EndStream, 1);
        request.AddRange(block);
        await socket.SendAsync(request.ToArray(), SocketFlags.None, timeout.Token);

        var received = new List<byte>();
        var buffer = new byte[16 * 1024];
        var offset = 0;
        while (true)
        {
            while (received.Count - offset >= 9)
            {
                var header = received.GetRange(offset, 9).ToArray();
                var length = (header[0] << 16) | (header[1] << 8) | header[2];
                if (received.Count - offset - 9 < length)
                {
                    break;
                }

                var type = header[3];
                var stream = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7fffffff;
                var payload = received.GetRange(offset + 9, length).ToArray();
                offset += 9 + length;
                if (type == GoAway)
                {
                    return new Http2Answer(0, GoAway: true, BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4)));
                }

                if (stream == 1 && type == RstStream)
                {
                    return new Http2Answer(0, GoAway: false, BinaryPrimitives.ReadUInt32BigEndian(payload));
                }

                if (stream == 1 && type == Headers)
                {
                    // An indexed :status from the static table (RFC 7541 Appendix A, entries 8 to 14).
                    int[] statuses = [200, 204, 206, 304, 400, 404, 500];
                    var index = payload.Length > 0 ? (payload[0] & 0x7f) - 8 : -1;
                    return new Http2Answer((payload[0] & 0x80) != 0 && index is >= 0 and < 7 ? statuses[index] : 0, GoAway: false, 0);
                }
            }

            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                throw new Xunit.Sdk.XunitException("The server closed the connection without answering stream 1.");
            }

            received.AddRange(buffer.AsSpan(0, read));
        }
    }

    private static void AddString(List<byte> block, string text)
    {
        Assert.True(text.Length < 127, "Only short strings fit one length byte.");
        block.Add((byte)text.Length);
        block.AddRange(Encoding.ASCII.GetBytes(text));
    }

    private static void AddFrameHeader(List<byte> frames, int length, byte type, int flags, int stream)
    {
        frames.AddRange([(byte)(length >> 16), (byte)(length >> 8), (byte)length, type, (byte)flags]);
        var id = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(id, stream);
        frames.AddRange(id);
    }
}
