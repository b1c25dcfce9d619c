using System.Globalization;
using System.Text;

namespace ProductionServing.Soak;

/// <summary>The CSV of the samples and the Markdown summary with the verdict.</summary>
internal static class Report
{
    private const double Mib = 1024 * 1024;

    public static void WriteCsv(string path, IReadOnlyList<Sample> samples)
    {
        var csv = new StringBuilder("seconds,rss_bytes,rss_anon_bytes,rss_file_bytes,rss_shmem_bytes,gc_heap_bytes,gc_full_heap_bytes,gc_committed_bytes,gc_gen0_count,gc_gen2_count," +
            "fds,threads,requests_per_second,ok,shed_503,aborted,errors_connect,errors_timeout,errors_status,errors_other\n");
        foreach (var s in samples)
        {
            csv.Append(CultureInfo.InvariantCulture,
                $"{s.Seconds:F1},{s.RssBytes},{s.RssAnonBytes},{s.RssFileBytes},{s.RssShmemBytes},{s.GcHeapBytes},{s.GcFullHeapBytes},{s.GcCommittedBytes},{s.Gen0Collections},{s.Gen2Collections}," +
                $"{s.Fds},{s.Threads},{s.Requests / s.Interval:F0}");
            foreach (var count in s.ByOutcome)
            {
                csv.Append(CultureInfo.InvariantCulture, $",{count}");
            }

            csv.Append('\n');
        }

        File.WriteAllText(path, csv.ToString());
    }

    public static string Summary(
        Settings settings, IReadOnlyList<LoadKind> kinds, Counters counters, IReadOnlyList<Sample> samples, IReadOnlyList<FlatnessResult> flatness,
        Reloader reloader, LiveHeap live, HostLog hostLog, IReadOnlyList<string> failures)
    {
        var totals = counters.Snapshot();
        var md = new StringBuilder();
        var verdict = failures.Count == 0 ? "PASS" : "FAIL";
        md.AppendLine(CultureInfo.InvariantCulture, $"## Soak: {verdict}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"{settings.Duration} s of load, warm-up {settings.Warmup} s, a sample every {settings.SampleEvery} s ({samples.Count} samples), a reload every {settings.ReloadEvery} s.");
        md.AppendLine();
        md.AppendLine("| series | after the warm-up | at the end | median | fitted growth after the warm-up | bound | flat |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var r in flatness)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Rule.Name} | {r.Rule.Format(r.AfterWarmup)} | {r.Rule.Format(r.End)} | {r.Rule.Format(r.Median)} | {Signed(r.Rule, r.Growth)} | {r.Rule.Format(r.Bound)} | {(r.Flat ? "yes" : "**no**")} |");
        }

        md.AppendLine();
        md.AppendLine(live.Describe());
        md.AppendLine();
        md.AppendLine("The host's GC figures after those collections (bytes; `GET /__soak/gc?collect=true`):");
        md.AppendLine();
        md.AppendLine("- after the warm-up: `" + live.RawAfterWarmup + "`");
        md.AppendLine("- at the end: `" + live.RawAtEnd + "`");
        md.AppendLine();
        if (samples.Count > 0)
        {
            var first = samples.FirstOrDefault(x => x.Seconds >= settings.Warmup) ?? samples[0];
            var last = samples[^1];
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"RSS parts from the warm-up's end to the last sample: anonymous {first.RssAnonBytes / Mib:F1} → {last.RssAnonBytes / Mib:F1} MiB, file-backed {first.RssFileBytes / Mib:F1} → {last.RssFileBytes / Mib:F1} MiB, shared (JIT code) {first.RssShmemBytes / Mib:F1} → {last.RssShmemBytes / Mib:F1} MiB; ") +
                string.Create(CultureInfo.InvariantCulture,
                $"GC committed {first.GcCommittedBytes / Mib:F1} → {last.GcCommittedBytes / Mib:F1} MiB; collections in the run: {last.Gen0Collections:N0} gen0, {last.Gen2Collections:N0} gen2."));
        }

        md.AppendLine();
        md.AppendLine("| kind | workers × pace | what | ok | 503 (asked for) | aborted (asked for) | connect | timeout | status | other |");
        md.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (var k = 0; k < counters.Kinds.Count; k++)
        {
            var kind = k < kinds.Count ? kinds[k] : null;
            var pace = kind is null ? "" : $"{kind.Workers} × {kind.Interval.TotalMilliseconds:F0} ms";
            var what = kind?.Description ?? (counters.Kinds[k] == "reload" ? "configuration reloads, each checked" : "GET /__soak/gc, with each sample");
            md.Append(CultureInfo.InvariantCulture, $"| {counters.Kinds[k]} | {pace} | {what} |");
            for (var o = 0; o < Counters.Outcomes; o++)
            {
                md.Append(CultureInfo.InvariantCulture, $" {totals[(k * Counters.Outcomes) + o]:N0} |");
            }

            md.AppendLine();
        }

        var all = totals.Sum();
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"{all:N0} requests ({all / (double)settings.Duration:N0} per second): {Counters.Sum(totals, Outcome.Ok):N0} ok, {Counters.Sum(totals, Outcome.Shed):N0} 503 from the overloaded pool, {Counters.Sum(totals, Outcome.Aborted):N0} aborted by the client, {Errors(totals):N0} errors.");
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Reloads: {reloader.Generation} written, {reloader.Seconds.Count} checked in effect, {reloader.Failed} failed") +
            (reloader.Interrupted ? ", the last one cut short by the run's end" : "") +
            (reloader.Seconds.Count == 0 ? "." : string.Create(CultureInfo.InvariantCulture,
                $"; in effect {FlatnessRule.Median(reloader.Seconds) * 1000:F0} ms after the rename (median), {reloader.Seconds.Max() * 1000:F0} ms at most.")));
        md.AppendLine(CultureInfo.InvariantCulture, $"Host log: {hostLog.Describe()}.");
        var messages = counters.Messages(out var dropped);
        if (messages.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Errors (the first ones):");
            md.AppendLine();
            foreach (var message in messages)
            {
                md.AppendLine("- " + message);
            }

            if (dropped > 0)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- and {dropped:N0} more");
            }
        }

        md.AppendLine();
        md.AppendLine(failures.Count == 0
            ? "**PASS**: every series flat after the warm-up, no errors beyond the 503s and aborts the load asks for."
            : "**FAIL**: " + string.Join("; ", failures) + ".");
        return md.ToString();
    }

    public static long Errors(long[] totals) =>
        Counters.Sum(totals, Outcome.ErrorConnect) + Counters.Sum(totals, Outcome.ErrorTimeout) + Counters.Sum(totals, Outcome.ErrorStatus) + Counters.Sum(totals, Outcome.ErrorOther);

    private static string Signed(FlatnessRule rule, double value) => (value >= 0 ? "+" : "−") + rule.Format(Math.Abs(value));
}
