using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Diagnostics;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A fact that reads figures of instruments of the <c>ProductionServing</c> meter that may not exist in this
/// build yet (the instrument contract names them before every part of the library records them): reported
/// as skipped, naming the missing instruments, until <see cref="ServingMetrics"/> publishes them all, and
/// run from then on. Skipped is never passed: a test that should run is visible in the totals.
/// </summary>
/// <remarks>xunit 2 has no dynamic skip, so the attribute sets <see cref="FactAttribute.Skip"/> when it is built.</remarks>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NeedsInstrumentsFactAttribute : FactAttribute
{
    public NeedsInstrumentsFactAttribute(params string[] instruments)
    {
        var missing = Missing(instruments);
        if (missing.Count > 0)
        {
            Skip = "The ProductionServing meter does not publish " + string.Join(", ", missing) + " in this build.";
        }
    }

    private static List<string> Missing(string[] instruments)
    {
        var published = new HashSet<string>(StringComparer.Ordinal);
        using var services = new ServiceCollection().AddLogging().AddProductionServing(_ => { }).BuildServiceProvider();
        var metrics = services.GetRequiredService<ServingMetrics>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter))
                {
                    published.Add(instrument.Name);
                }
            },
        };
        listener.Start();
        return [.. instruments.Where(name => !published.Contains(name))];
    }
}
