using System.Security.Cryptography;

namespace ProductionServing.DeployApp;

/// <summary>
/// The app's three JSON endpoints: <c>GET /api/ping</c> (trivial), <c>GET /api/work</c> (a fixed
/// amount of CPU work, about 0.2 ms on the machine the harness was written on) and
/// <c>POST /api/orders</c> (reads and parses a JSON request body). The same code runs in both
/// deployments; only what stands in front of it differs.
/// </summary>
internal static class AppEndpoints
{
    /// <summary>
    /// SHA-256 rounds over <see cref="WorkInput"/> per <c>/api/work</c> request. A fixed count rather
    /// than a timed spin, so a faster core finishes sooner, as real work does.
    /// </summary>
    public const int WorkRounds = 30;

    private static readonly byte[] WorkInput = CreateWorkInput();

    public static void Map(WebApplication app)
    {
        app.MapGet("/api/ping", () => TypedResults.Ok(new Ping(true)));
        app.MapGet("/api/work", () => TypedResults.Ok(DoWork()));
        app.MapPost("/api/orders", (Order order) =>
        {
            decimal total = 0;
            foreach (var line in order.Lines)
            {
                total += line.Quantity * line.UnitPrice;
            }

            return TypedResults.Ok(new OrderAccepted(order.Id, order.Lines.Count, total));
        });
    }

    private static WorkResult DoWork()
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        WorkInput.AsSpan(0, digest.Length).CopyTo(digest);
        Span<byte> block = stackalloc byte[WorkInput.Length];
        WorkInput.CopyTo(block);
        for (var i = 0; i < WorkRounds; i++)
        {
            // Chain the rounds so none can be skipped: each hashes the input with the last digest in front.
            digest.CopyTo(block);
            SHA256.HashData(block, digest);
        }

        return new WorkResult(WorkRounds, Convert.ToHexStringLower(digest));
    }

    private static byte[] CreateWorkInput()
    {
        var input = new byte[4096];
        new Random(14).NextBytes(input);
        return input;
    }

    private sealed record Ping(bool Ok);

    private sealed record WorkResult(int Rounds, string Digest);

    private sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice);

    private sealed record Order(string Id, List<OrderLine> Lines);

    private sealed record OrderAccepted(string Id, int Lines, decimal Total);
}
