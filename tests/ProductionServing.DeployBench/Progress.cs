using System.Globalization;

namespace ProductionServing.DeployBench;

/// <summary>Progress lines on stderr: the round, the step and about how long the run has left.</summary>
internal sealed class Progress(Settings settings)
{
    // A deployment's start and stop, beyond the load itself (apphost start, nginx, SIGTERM).
    private const double StartStopSeconds = 1.5;

    /// <summary>The load generator's own warm-up before the first round (three 5 s runs and a deployment's start).</summary>
    public const double GeneratorWarmupSeconds = 17;

    private readonly double _perRound = PerRound(settings);
    private double _done;

    public double Remaining => Math.Max(0, GeneratorWarmupSeconds + (_perRound * settings.Rounds) - _done);

    public static void Say(string line) => Console.Error.WriteLine("[deploy] " + line);

    public static string Format(double seconds) => seconds >= 60
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)(seconds / 60)} min {(int)(seconds % 60):D2} s")
        : string.Create(CultureInfo.InvariantCulture, $"{seconds:F0} s");

    /// <summary>Announces a step that takes about <paramref name="seconds"/> and counts it as done.</summary>
    public void Step(int round, string what, double seconds)
    {
        Say($"round {round}/{settings.Rounds}: {what} ({Format(seconds)}), about {Format(Remaining)} left");
        _done += seconds;
    }

    /// <summary>Announces the generator's warm-up and counts it as done.</summary>
    public void GeneratorWarmup()
    {
        Say($"warming up the load generator ({Format(GeneratorWarmupSeconds)}), about {Format(Remaining)} left");
        _done += GeneratorWarmupSeconds;
    }

    /// <summary>A line inside a step announced by <see cref="Step"/> (already counted as done): its seconds still to go count too.</summary>
    public void Tick(int round, string what, int second, int of) =>
        Say($"round {round}/{settings.Rounds}: {what}: {second}/{of} s, about {Format(Remaining + Math.Max(0, of - second))} left");

    private static double PerRound(Settings settings)
    {
        var curves = 2 + settings.CurveWorkloads.Sum(w => settings.Variants.Count(v => w != "mix" || (v != Variant.Classic && v != Variant.Library)));
        return (curves * (settings.WarmupSeconds + StartStopSeconds)) + ((Workload.Names.Length + 1) * 2 * settings.Duration);
    }
}
