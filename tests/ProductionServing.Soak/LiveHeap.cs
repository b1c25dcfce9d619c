using System.Globalization;

namespace ProductionServing.Soak;

/// <summary>
/// The live managed heap, measured twice: right after the warm-up and right after the load stops, each
/// time after a full, compacting collection the soak asks the host for (<c>GET
/// /__soak/gc?collect=true</c>), as the heap's size less its fragmentation (the free space between
/// objects that a compaction cannot close: around pinned objects, and on the large object heap, which
/// it does not compact). Between collections the heap figure carries garbage that no full collection has
/// reclaimed yet; these two do not, so a managed leak shows as their difference. It passes when the end
/// is at most <see cref="Relative"/> above the first, or <see cref="Absolute"/>. The host's whole answer
/// at both points is kept for the report (<see cref="RawAfterWarmup"/>, <see cref="RawAtEnd"/>).
/// </summary>
internal sealed class LiveHeap
{
    public const double Relative = 0.10;

    public const long Absolute = 2 * 1024 * 1024;

    public long AfterWarmup { get; set; } = -1;

    public long AtEnd { get; set; } = -1;

    public string RawAfterWarmup { get; set; } = "";

    public string RawAtEnd { get; set; } = "";

    public long Bound => Math.Max((long)(Relative * AfterWarmup), Absolute);

    public bool Measured => AfterWarmup > 0 && AtEnd > 0;

    public bool Flat => Measured && AtEnd - AfterWarmup <= Bound;

    public string Describe() => Measured
        ? string.Create(CultureInfo.InvariantCulture,
            $"Live managed heap after a forced full collection: {AfterWarmup / 1048576.0:F2} MiB after the warm-up, {AtEnd / 1048576.0:F2} MiB at the end ({(AtEnd - AfterWarmup) / 1048576.0:+0.00;-0.00} MiB; bound +{Bound / 1048576.0:F2} MiB).")
        : "Live managed heap: not measured (a forced collection failed or the run ended first).";

    /// <summary>The live bytes of a <c>GET /__soak/gc</c> answer: heap size less fragmentation; -1 when it failed.</summary>
    public static long From(IReadOnlyDictionary<string, long>? fields) =>
        fields is not null && fields.TryGetValue("heap", out var heap) && fields.TryGetValue("fragmented", out var fragmented) ? heap - fragmented : -1;

    public static string Raw(IReadOnlyDictionary<string, long>? fields) =>
        fields is null ? "" : string.Join(' ', fields.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key}={f.Value}")));
}
