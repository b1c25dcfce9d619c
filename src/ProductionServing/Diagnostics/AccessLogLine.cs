using System.Buffers;

namespace ProductionServing.Diagnostics;

/// <summary>A line waiting for the file writer: its bytes (newline included) in an array rented from <see cref="ArrayPool{T}.Shared"/>.</summary>
internal readonly struct AccessLogLine(byte[] buffer, int length)
{
    public ReadOnlyMemory<byte> Bytes => buffer.AsMemory(0, length);

    /// <summary>A copy of <paramref name="text"/> followed by a newline.</summary>
    public static AccessLogLine Copy(ReadOnlySpan<byte> text)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(text.Length + 1);
        text.CopyTo(buffer);
        buffer[text.Length] = (byte)'\n';
        return new AccessLogLine(buffer, text.Length + 1);
    }

    /// <summary>Gives the array back; the line must not be used after.</summary>
    public void Return() => ArrayPool<byte>.Shared.Return(buffer);
}
