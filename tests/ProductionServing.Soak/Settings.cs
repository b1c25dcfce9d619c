using System.Globalization;

namespace ProductionServing.Soak;

/// <summary>
/// The run's knobs, from the environment (tests/load/soak documents them), and the paths the script
/// passes as arguments: <c>--host</c> (the SoakHost apphost), <c>--backend</c> (the LoadServer
/// apphost) and <c>--temp</c> (a folder for the static files, the configuration and the logs).
/// </summary>
internal sealed class Settings
{
    /// <summary>Seconds of load.</summary>
    public int Duration { get; private init; }

    /// <summary>Seconds from the start left out of the flatness rule.</summary>
    public int Warmup { get; private init; }

    /// <summary>Seconds between samples of the host.</summary>
    public int SampleEvery { get; private init; }

    /// <summary>Seconds between configuration reloads.</summary>
    public int ReloadEvery { get; private init; }

    public string Output { get; private init; } = "";

    public string Host { get; private init; } = "";

    public string Backend { get; private init; } = "";

    public string Temp { get; private init; } = "";

    public string StaticRoot => Path.Combine(Temp, "static");

    public string ConfigPath => Path.Combine(Temp, "soak.json");

    public static Settings Read(string[] args)
    {
        string Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault()
            ?? throw new ArgumentException($"missing {name} <path>");
        string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
        int Seconds(string name, int fallback, int min, int max)
        {
            var text = Env(name, fallback.ToString(CultureInfo.InvariantCulture)).TrimEnd('s');
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
                ? value
                : throw new ArgumentException($"{name}={text}: whole seconds from {min} to {max}");
        }

        var duration = Seconds("DURATION", 600, 20, 86_400);
        return new Settings
        {
            Duration = duration,
            // A fifth of the run: two minutes of the default ten, enough for the JIT's tiering, the thread
            // pool's and the GC's budgets to settle (tests/load/README.md, "Server warm-up").
            Warmup = Seconds("WARMUP", duration / 5, 0, duration - 10),
            SampleEvery = Seconds("SAMPLE", 5, 1, 60),
            // A minute, or a fifth of a shorter run, so a quick check reloads too.
            ReloadEvery = Seconds("RELOAD", Math.Clamp(duration / 5, 5, 60), 5, 3600),
            Output = Path.GetFullPath(Env("OUTPUT", "soak-results")),
            Host = Arg("--host"),
            Backend = Arg("--backend"),
            Temp = Arg("--temp"),
        };
    }
}
