using System.Net.Sockets;
using System.Text;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>What the proxy tests share: signals, stream readers, and checks of a truncated response.</summary>
internal static class ProxyTestHelpers
{
    public static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Reads until the text read so far ends with <paramref name="marker"/>, and returns it.</summary>
    public static async Task<string> ReadUntilAsync(Stream stream, string marker)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        var text = new StringBuilder();
        var buffer = new byte[1];
        while (!text.ToString().EndsWith(marker, StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(buffer, timeout.Token) == 0)
            {
                throw new Xunit.Sdk.XunitException($"The stream ended after '{text}', before '{marker}'.");
            }

            text.Append((char)buffer[0]);
        }

        return text.ToString();
    }

    public static async Task<string> ReadToEndAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var reader = new StreamReader(stream, leaveOpen: true);
        return await reader.ReadToEndAsync(timeout.Token);
    }

    /// <summary>Waits until the proxy closes a raw upstream's connection (or the raw upstream stops).</summary>
    public static async Task WaitForCloseAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        while (await socket.ReceiveAsync(buffer, cancellationToken) != 0)
        {
        }
    }

    /// <summary>A response that ended early must not look complete: no last chunk, or fewer bytes than its Content-Length.</summary>
    public static void AssertIncomplete(string received)
    {
        if (!received.Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            return;     // the connection closed before any response: incomplete too
        }

        Assert.False(IsComplete(RawResponse.Parse(received)), $"A truncated response looks complete: {received}");
    }

    public static bool IsComplete(RawResponse response)
    {
        var head = response.Head;
        var lengthAt = head.IndexOf("Content-Length: ", StringComparison.OrdinalIgnoreCase);
        if (lengthAt >= 0)
        {
            var end = head.IndexOf("\r\n", lengthAt, StringComparison.Ordinal);
            var length = int.Parse(end < 0 ? head[(lengthAt + 16)..] : head[(lengthAt + 16)..end], System.Globalization.CultureInfo.InvariantCulture);
            return response.Body.Length >= length;
        }

        return response.Body.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
    }
}
