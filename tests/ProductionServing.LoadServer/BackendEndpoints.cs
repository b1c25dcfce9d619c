using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.Extensions.Primitives;

namespace ProductionServing.LoadServer;

/// <summary>
/// The upstream of the proxy benchmark (and, alone, its <c>direct</c> row): bodies built once at
/// startup and written by minimal endpoints, so a request costs the backend little beyond Kestrel's
/// own work and the differences between rows are the proxies'.
/// </summary>
internal static class BackendEndpoints
{
    /// <summary>The size of <c>GET /json</c>'s body, in bytes: the proxy suite's "100-byte JSON GET" (tests/load/README.md).</summary>
    public const int JsonLength = 100;

    /// <summary>The size of <c>GET /1m.bin</c>'s body, in bytes.</summary>
    public const int LargeLength = 1024 * 1024;

    private static readonly StringValues JsonType = "application/json";
    private static readonly StringValues BinaryType = "application/octet-stream";

    public static void Map(WebApplication app)
    {
        var json = "{\"id\":4711,\"name\":\"load test item\",\"price\":19.99,\"tags\":[\"alpha\",\"beta\"],\"inStock\":true,\"qty\":12345}"u8.ToArray();
        if (json.Length != JsonLength)
        {
            throw new InvalidOperationException($"The JSON body is {json.Length} bytes; the scenario needs {JsonLength}.");
        }

        // Random bytes, so nothing on the way can gain from compressing them.
        var large = new byte[LargeLength];
        RandomNumberGenerator.Fill(large);

        // One delegate per path, built here; the request path captures nothing new.
        app.MapGet("/json", context => Write(context, JsonType, json));
        app.MapGet("/1m.bin", context => Write(context, BinaryType, large));
        app.MapPost("/upload", static context => Upload(context));
    }

    private static Task Write(HttpContext context, StringValues contentType, byte[] body)
    {
        var response = context.Response;
        response.Headers.ContentType = contentType;
        response.ContentLength = body.Length;
        var write = response.BodyWriter.WriteAsync(body, context.RequestAborted);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }

    /// <summary>Reads the whole request body, keeps only its length, and answers <c>{"received":N}</c>.</summary>
    private static async Task Upload(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        long received = 0;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted);
            received += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        WriteReceived(context.Response, received);
    }

    private static void WriteReceived(HttpResponse response, long received)
    {
        ReadOnlySpan<byte> prefix = "{\"received\":"u8;
        ReadOnlySpan<byte> suffix = "}"u8;
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(received, digits, out var length);

        response.Headers.ContentType = JsonType;
        response.ContentLength = prefix.Length + length + suffix.Length;
        // Kestrel flushes what is left in the pipe when the request delegate completes.
        var writer = response.BodyWriter;
        writer.Write(prefix);
        writer.Write(digits[..length]);
        writer.Write(suffix);
    }
}
