using System.Diagnostics.Metrics;

namespace ProductionServing.LoadServer;

/// <summary>
/// <c>--metrics ours|all</c>: observes the instruments as an exporter would, so a load run measures what
/// metrics cost once someone listens (an instrument nobody observes costs a field read). Each measurement
/// is added to a counter per instrument, about the least an exporter does with it.
/// </summary>
internal static class MetricsListener
{
    public static MeterListener? Start(string? which)
    {
        if (which is not ("ours" or "all"))
        {
            return null;
        }

        var listener = new MeterListener();
        var all = which == "all";
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (all || instrument.Meter.Name == "ProductionServing")
            {
                l.EnableMeasurementEvents(instrument, new Sum());
            }
        };
        listener.SetMeasurementEventCallback<double>(static (_, value, _, state) => ((Sum)state!).Add(value));
        listener.SetMeasurementEventCallback<long>(static (_, value, _, state) => ((Sum)state!).Add(value));
        listener.SetMeasurementEventCallback<int>(static (_, value, _, state) => ((Sum)state!).Add(value));
        listener.Start();
        return listener;
    }

    private sealed class Sum
    {
        private double _total;

        public void Add(double value)
        {
            // Interlocked: measurements arrive from every request thread at once.
            double seen, next;
            do
            {
                seen = Volatile.Read(ref _total);
                next = seen + value;
            }
            while (Interlocked.CompareExchange(ref _total, next, seen) != seen);
        }
    }
}
