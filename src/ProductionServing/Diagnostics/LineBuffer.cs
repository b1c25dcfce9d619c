using System.Buffers;
using System.Text;

namespace ProductionServing.Diagnostics;

/// <summary>
/// Where an access-log line is formatted: one buffer per thread, kept for the thread's life, so a line costs
/// no allocation; the sink copies out what it keeps (a file line into the file queue's reused segments, so
/// a full queue holds lines, not formatting buffers). Formatting never awaits, so a line is written on one
/// thread from start to end.
/// </summary>
internal sealed class LineBuffer : IBufferWriter<byte>
{
    private const int InitialSize = 4096;

    /// <summary>A buffer that grew past this for a huge header is not kept for the thread's next lines.</summary>
    private const int MaxKeptSize = 64 * 1024;

    /// <summary>nginx's <c>ngx_http_log_escape</c> writes upper-case digits.</summary>
    private static ReadOnlySpan<byte> HexDigits => "0123456789ABCDEF"u8;

    [ThreadStatic]
    private static LineBuffer? t_buffer;

    private byte[] _buffer = new byte[InitialSize];
    private int _written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _written);

    /// <summary>This thread's buffer, emptied.</summary>
    public static LineBuffer Start()
    {
        var buffer = t_buffer ??= new LineBuffer();
        buffer._written = 0;
        if (buffer._buffer.Length > MaxKeptSize)
        {
            buffer._buffer = new byte[InitialSize];
        }

        return buffer;
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Write(byte value)
    {
        Ensure(1);
        _buffer[_written++] = value;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_written));
        _written += bytes.Length;
    }

    /// <summary>Writes ASCII text that needs no escaping (an error.type, a status).</summary>
    public void WriteAscii(string text)
    {
        Ensure(text.Length);
        _written += Encoding.ASCII.GetBytes(text, _buffer.AsSpan(_written));
    }

    public void WriteNumber(long value)
    {
        Ensure(20);
        value.TryFormat(_buffer.AsSpan(_written), out var count, provider: System.Globalization.CultureInfo.InvariantCulture);
        _written += count;
    }

    /// <summary>Seconds with a millisecond resolution, as nginx prints <c>$request_time</c> (<c>"%T.%03M"</c>): <c>0.003</c>.</summary>
    public void WriteSeconds(long milliseconds)
    {
        milliseconds = Math.Max(milliseconds, 0);
        WriteNumber(milliseconds / 1000);
        Ensure(4);
        var fraction = (int)(milliseconds % 1000);
        var span = _buffer.AsSpan(_written, 4);
        span[0] = (byte)'.';
        span[1] = (byte)('0' + fraction / 100);
        span[2] = (byte)('0' + fraction / 10 % 10);
        span[3] = (byte)('0' + fraction % 10);
        _written += 4;
    }

    /// <summary>Two digits, with a leading zero (the fields of <c>$time_local</c>).</summary>
    public void WriteTwoDigits(int value)
    {
        Ensure(2);
        _buffer[_written++] = (byte)('0' + value / 10 % 10);
        _buffer[_written++] = (byte)('0' + value % 10);
    }

    /// <summary>
    /// Writes <paramref name="value"/> as nginx writes a variable into a log line (<c>escape=default</c>,
    /// <c>ngx_http_log_escape</c> in ngx_http_log_module.c): its UTF-8 bytes, with <c>"</c>, <c>\</c>, the
    /// control bytes (below 0x20, and 0x7F) and every byte above 0x7F written as <c>\xHH</c>, so a line is
    /// always one line of printable ASCII and a quoted field always ends at its quote. Empty is <c>-</c>.
    /// </summary>
    public void WriteEscaped(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            Write((byte)'-');
            return;
        }

        // At most three UTF-8 bytes per UTF-16 char (a surrogate pair is four for two), each four escaped.
        var destination = GetSpan(checked(value.Length * 12));
        Span<byte> utf8 = stackalloc byte[4];
        var written = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c < 0x80)
            {
                if (c < 0x20 || c == '"' || c == '\\' || c == 0x7F)
                {
                    written += WriteHex(destination[written..], (byte)c);
                }
                else
                {
                    destination[written++] = (byte)c;
                }

                continue;
            }

            // A lone surrogate (not UTF-16 at all) becomes U+FFFD, the replacement character.
            Rune.DecodeFromUtf16(value[i..], out var rune, out var consumed);
            var count = rune.EncodeToUtf8(utf8);
            for (var j = 0; j < count; j++)
            {
                written += WriteHex(destination[written..], utf8[j]);
            }

            i += consumed - 1;
        }

        _written += written;
    }

    private static int WriteHex(Span<byte> destination, byte value)
    {
        destination[0] = (byte)'\\';
        destination[1] = (byte)'x';
        destination[2] = HexDigits[value >> 4];
        destination[3] = HexDigits[value & 0xF];
        return 4;
    }

    private void Ensure(int sizeHint)
    {
        var needed = _written + Math.Max(sizeHint, 1);
        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        }
    }
}
