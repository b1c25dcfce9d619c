using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// Bodies far larger than any buffer stream through the proxy both ways: intact (SHA-256 on both ends)
/// and without the process allocating anything close to their size.
/// </summary>
/// <remarks>
/// 256 MiB, generated on the fly and hashed as it goes, is 256 times Kestrel's 1 MiB request buffer and
/// thousands of times any read the proxy makes: buffering a body whole, or allocating a fresh array per
/// piece, would allocate at least the body's size, while the bound is an eighth of it (the client, the
/// proxy and the upstream all run in this process and allocate 1.5-5.5 MB between them). On a 2-core
/// machine it takes 1-2 s down and 3-4 s up with both ends hashing; 1 GiB would take over 10 s and show
/// nothing more, since the allocation does not grow with the size. <see cref="GC.GetTotalAllocatedBytes"/>
/// counts every thread, so these tests run alone.
/// </remarks>
[Collection(nameof(LargeTransferTests))]
[CollectionDefinition(nameof(LargeTransferTests), DisableParallelization = true)]
public sealed class LargeTransferTests
{
    private const long Size = 256L * 1024 * 1024;
    private const int BlockSize = 64 * 1024;
    private const long AllocationBound = Size / 8;

    private static readonly byte[] Pattern = CreatePattern();

    [Fact]
    public async Task Download_OfAQuarterGibibyte_ArrivesIntact_WithBoundedAllocation()
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Long);
        var sent = NewSignal();
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            var size = long.Parse(context.Request.Query["bytes"]!, System.Globalization.CultureInfo.InvariantCulture);
            context.Response.ContentLength = size;
            sent.TrySetResult(await WriteBlocksAsync(context.Response.Body, size, context.RequestAborted));
        });
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address));
        await DownloadAsync(host, BlockSize * 16, timeout.Token);      // JIT and pooled connections, outside the measurement
        sent = NewSignal();

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var (length, received) = await DownloadAsync(host, Size, timeout.Token);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(Size, length);
        Assert.Equal(Convert.ToHexString(await sent.Task.WaitAsync(timeout.Token)), Convert.ToHexString(received));
        Assert.True(allocated < AllocationBound, $"{allocated:N0} bytes allocated while forwarding {Size:N0}.");
    }

    [Fact]
    public async Task Upload_OfAQuarterGibibyte_ArrivesIntact_WithBoundedAllocation()
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Long);
        await using var upstream = await UpstreamHost.StartAsync(async context =>
        {
            var (length, hash) = await HashAsync(context.Request.Body, context.RequestAborted);
            await context.Response.WriteAsync($"{length} {Convert.ToHexString(hash)}");
        }, builder => builder.WebHost.ConfigureKestrel(options => options.Limits.MaxRequestBodySize = null));

        // Kestrel's default 30 MB request body limit applies to proxied requests as to any other; lift it as an app would.
        await using var host = await ServingHost.StartAsync(ServingJson.PassAll(upstream.Address),
            services: services => services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = null));

        // Not host.Client: its 10 s Timeout covers the whole upload, which a busy 2-core machine can exceed.
        using var client = new HttpClient { BaseAddress = host.Client.BaseAddress, Timeout = TestTimeouts.Long };
        await UploadAsync(client, BlockSize * 16, timeout.Token);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var (answer, sent) = await UploadAsync(client, Size, timeout.Token);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal($"{Size} {Convert.ToHexString(sent)}", answer);
        Assert.True(allocated < AllocationBound, $"{allocated:N0} bytes allocated while forwarding {Size:N0}.");
    }

    private static TaskCompletionSource<byte[]> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static async Task<(long Length, byte[] Hash)> DownloadAsync(ServingHost host, long size, CancellationToken cancellationToken)
    {
        using var response = await host.Client.GetAsync($"/download?bytes={size}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(size, response.Content.Headers.ContentLength);
        return await HashAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken);
    }

    /// <summary>Uploads <paramref name="size"/> generated bytes; returns the upstream's answer and the hash of what was sent.</summary>
    private static async Task<(string Answer, byte[] Sent)> UploadAsync(HttpClient client, long size, CancellationToken cancellationToken)
    {
        using var content = new GeneratedContent(size);
        using var response = await client.PostAsync("/upload", content, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsStringAsync(cancellationToken), content.Sent!);
    }

    /// <summary>Writes <paramref name="size"/> bytes of blocks (a multiple of the block size) and returns their hash.</summary>
    private static async Task<byte[]> WriteBlocksAsync(Stream destination, long size, CancellationToken cancellationToken)
    {
        var block = new byte[BlockSize];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long i = 0; i < size / BlockSize; i++)
        {
            FillBlock(block, i);
            hash.AppendData(block);
            await destination.WriteAsync(block, cancellationToken);
        }

        return hash.GetHashAndReset();
    }

    private static async Task<(long Length, byte[] Hash)> HashAsync(Stream source, CancellationToken cancellationToken)
    {
        var buffer = new byte[BlockSize];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) != 0)
        {
            hash.AppendData(buffer, 0, read);
            length += read;
        }

        return (length, hash.GetHashAndReset());
    }

    /// <summary>Block <paramref name="index"/>: a fixed random pattern stamped with its index, so a lost, repeated or reordered block changes the hash.</summary>
    private static void FillBlock(byte[] block, long index)
    {
        Pattern.CopyTo(block, 0);
        BinaryPrimitives.WriteInt64LittleEndian(block, index);
    }

    private static byte[] CreatePattern()
    {
        var pattern = new byte[BlockSize];
        new Random(20240601).NextBytes(pattern);
        return pattern;
    }

    /// <summary>A request body generated block by block as it is sent, never held whole.</summary>
    private sealed class GeneratedContent : HttpContent
    {
        private readonly long _size;

        public GeneratedContent(long size)
        {
            _size = size;
            Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        /// <summary>The SHA-256 of what was sent, once it was.</summary>
        public byte[]? Sent { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            Sent = await WriteBlocksAsync(stream, _size, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = _size;
            return true;
        }
    }
}
