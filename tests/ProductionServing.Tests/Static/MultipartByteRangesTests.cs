using System.Text;
using CsCheck;
using ProductionServing.Static;

namespace ProductionServing.Tests.Static;

/// <summary>
/// <c>multipart/byteranges</c> framing (RFC 9110 §14.6): the exact layout, the boundary, and that the
/// precomputed Content-Length always equals what is written.
/// </summary>
public sealed class MultipartByteRangesTests
{
    [Fact]
    public void CreateBoundary_ReturnsLongRandomAlphanumeric()
    {
        var first = MultipartByteRanges.CreateBoundary();
        var second = MultipartByteRanges.CreateBoundary();

        // RFC 2046 §5.1.1: boundary characters; 16+ of 62 letters so no file can contain it by chance.
        Assert.InRange(first.Length, 16, 70);
        Assert.All(first.ToCharArray(), static c => Assert.True(char.IsAsciiLetterOrDigit(c), $"'{c}' in boundary"));
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void ContentType_Boundary_NamesMultipartByteranges()
    {
        Assert.Equal("multipart/byteranges; boundary=B0und", MultipartByteRanges.ContentType("B0und"));
    }

    [Fact]
    public async Task WriteAsync_TwoRanges_WritesRfc9110Layout()
    {
        // The shape of the RFC 9110 §14.6 example: each part's headers, a blank line, the bytes, and a closing delimiter.
        var content = Encoding.ASCII.GetBytes("0123456789abcdefghij");
        ByteRange[] ranges = [new(0, 3), new(15, 5)];
        using var body = new MemoryStream();

        await MultipartByteRanges.WriteAsync(body, "THIS_STRING_SEPARATES", "text/plain", ranges, content.Length,
            (range, token) => body.WriteAsync(content, (int)range.Start, (int)range.Length, token), CancellationToken.None);

        var expected =
            "\r\n--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-2/20\r\n\r\n012" +
            "\r\n--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 15-19/20\r\n\r\nfghij" +
            "\r\n--THIS_STRING_SEPARATES--\r\n";
        Assert.Equal(expected, Encoding.ASCII.GetString(body.ToArray()));
        Assert.Equal(expected.Length, MultipartByteRanges.ComputeLength("THIS_STRING_SEPARATES", "text/plain", ranges, content.Length));
    }

    [Fact]
    public async Task WriteAsync_Cancelled_Throws()
    {
        using var body = new MemoryStream();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MultipartByteRanges.WriteAsync(
            body, "b", "text/plain", [new(0, 1)], 1, static (_, _) => Task.CompletedTask, cancelled.Token));
    }

    [Fact]
    public async Task ComputeLength_RandomRanges_EqualsBytesWritten()
    {
        // Property: for any ranges, total length, content type (non-ASCII included) and boundary,
        // ComputeLength is the number of bytes WriteAsync puts on the wire.
        var range = Gen.Select(Gen.Long[0, long.MaxValue / 2], Gen.Long[1, 300]).Select(static (start, length) => new ByteRange(start, length));
        var contentType = Gen.OneOf(Gen.Const("text/plain"), Gen.Const("application/octet-stream"), Gen.Const("text/html; charset=utf-8"), Gen.String);
        var total = Gen.OneOf(Gen.Long[0, 1000], Gen.Long);

        await Gen.Select(range.Array[0, 12], contentType, total, Gen.Bool).SampleAsync(async (ranges, type, totalLength, randomBoundary) =>
        {
            var boundary = randomBoundary ? MultipartByteRanges.CreateBoundary() : "b";
            using var body = new MemoryStream();

            await MultipartByteRanges.WriteAsync(body, boundary, type, ranges, totalLength,
                (r, token) => body.WriteAsync(new byte[r.Length], token).AsTask(), CancellationToken.None);

            Assert.Equal(body.Length, MultipartByteRanges.ComputeLength(boundary, type, ranges, totalLength));
        }, iter: 2_000);
    }
}
