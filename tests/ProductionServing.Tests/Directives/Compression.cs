using System.IO.Compression;
using System.Text;

namespace ProductionServing.Tests.Directives;

/// <summary>What the Compress tests share: requests with an Accept-Encoding, and decoding what came back.</summary>
internal static class Compression
{
    /// <summary>A compressible text of <paramref name="length"/> ASCII bytes that differs from line to line.</summary>
    public static string Text(int length, string seed = "line")
    {
        var text = new StringBuilder(length + 64);
        for (var i = 0; text.Length < length; i++)
        {
            text.Append(seed).Append(' ').Append(i).Append(": the quick brown fox jumps over the lazy dog\n");
        }

        return text.ToString(0, length);
    }

    /// <summary>Sends <paramref name="method"/> <paramref name="path"/> with <paramref name="acceptEncoding"/> (none when null) and more headers.</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient client, string path, string? acceptEncoding, HttpMethod? method = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return client.SendAsync(request, completion);
    }

    /// <summary>The body decoded from its single Content-Encoding (br or gzip), or as it is without one.</summary>
    public static async Task<byte[]> DecodeAsync(HttpResponseMessage response)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return response.Content.Headers.ContentEncoding.SingleOrDefault() switch
        {
            null => bytes,
            "br" => Decode(new BrotliStream(new MemoryStream(bytes), CompressionMode.Decompress)),
            "gzip" => Decode(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)),
            var other => throw new Xunit.Sdk.XunitException($"Unexpected Content-Encoding {other}."),
        };
    }

    /// <summary>A stream that decodes <paramref name="body"/> as it arrives, for reading a streamed response event by event.</summary>
    public static Stream Decoding(Stream body, string coding) => coding switch
    {
        "br" => new BrotliStream(body, CompressionMode.Decompress),
        "gzip" => new GZipStream(body, CompressionMode.Decompress),
        _ => body,
    };

    private static byte[] Decode(Stream decoder)
    {
        using (decoder)
        {
            using var output = new MemoryStream();
            decoder.CopyTo(output);
            return output.ToArray();
        }
    }
}
