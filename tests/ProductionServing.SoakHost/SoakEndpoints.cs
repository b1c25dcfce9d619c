using System.Globalization;
using System.Security.Cryptography;

namespace ProductionServing.SoakHost;

/// <summary>
/// The app behind the soak's <c>App</c> locations: a little CPU work in the <c>default</c> pool, a
/// blocking call in the small dedicated pool that the soak overloads, a slow streamed response for the
/// client aborts, and the GC figures the soak samples.
/// </summary>
internal static class SoakEndpoints
{
    private const int StreamChunks = 32;

    private static readonly byte[] Chunk = RandomNumberGenerator.GetBytes(16 * 1024);

    public static void Map(WebApplication app)
    {
        // SHA-256 over 4 KiB and a JSON answer: a request that allocates and costs some CPU, as an API call does.
        app.MapGet("/app/work", static (int? n) =>
        {
            Span<byte> input = stackalloc byte[4096];
            input.Fill((byte)(n ?? 0));
            return Results.Json(new { n, hash = Convert.ToHexString(SHA256.HashData(input)) });
        });

        // Blocking code on one of the small pool's dedicated threads.
        app.MapGet("/small/{milliseconds:int}", static (int milliseconds) =>
        {
            Thread.Sleep(Math.Clamp(milliseconds, 0, 1000));
            return "slept\n";
        });

        // 32 chunks of 16 KiB, 5 ms apart: long enough that a client that reads the first chunk and leaves
        // goes away while the app is still writing.
        app.MapGet("/app/stream", static async (HttpContext context) =>
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = StreamChunks * Chunk.Length;
            for (var i = 0; i < StreamChunks; i++)
            {
                await context.Response.Body.WriteAsync(Chunk, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(5, context.RequestAborted);
            }
        });

        // What the soak samples beside /proc: the managed heap after the last collection (any generation),
        // its fragmentation, the heap after the last full collection, the memory the GC has committed, the
        // large and pinned object heaps, and the collection counts. With ?collect=true a full, compacting,
        // blocking collection runs first (twice, around the finalizers), so the heap less its
        // fragmentation is the live managed memory: the soak asks for that twice in a run.
        app.MapGet("/__soak/gc", static (bool? collect) =>
        {
            if (collect == true)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }

            var last = GC.GetGCMemoryInfo(GCKind.Any);
            var background = GC.GetGCMemoryInfo(GCKind.Background);
            var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
            var full = background.Index >= blocking.Index ? background : blocking;
            var generations = last.GenerationInfo;
            return Results.Text(string.Create(CultureInfo.InvariantCulture,
                $"heap={last.HeapSizeBytes} fragmented={last.FragmentedBytes} full_heap={full.HeapSizeBytes} committed={last.TotalCommittedBytes} " +
                $"gen2_size={generations[2].SizeAfterBytes} loh_size={generations[3].SizeAfterBytes} loh_fragmented={generations[3].FragmentationAfterBytes} " +
                $"poh_size={generations[4].SizeAfterBytes} poh_fragmented={generations[4].FragmentationAfterBytes} " +
                $"gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}\n"));
        });
    }
}
