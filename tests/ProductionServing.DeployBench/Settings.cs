using System.Globalization;

namespace ProductionServing.DeployBench;

/// <summary>
/// The run's knobs, from the environment (tests/load/deploy documents them), and the paths the script
/// passes as arguments: <c>--app</c> and <c>--app-r2r</c> (the two publishes' apphosts), <c>--nginx</c>,
/// <c>--temp</c> (a folder for assets, configs and logs).
/// </summary>
internal sealed class Settings
{
    public int Rounds { get; private init; }

    public double Duration { get; private init; }

    public int WarmupSeconds { get; private init; }

    /// <summary>Requests per second of the open-loop run; 0 picks 60 % of the slower deployment's closed-loop mix in the same round.</summary>
    public double Rate { get; private init; }

    public int Connections { get; private init; }

    public string ServerCpu { get; private init; } = "0";

    public string LoadCpu { get; private init; } = "1";

    public string Output { get; private init; } = "";

    public string AcceptEncoding { get; private init; } = "";

    public IReadOnlyList<Variant> Variants { get; private init; } = [];

    public IReadOnlyList<string> CurveWorkloads { get; private init; } = [];

    /// <summary>The variant whose time to 90 % is held to the 5 s target.</summary>
    public string Recommended { get; private init; } = "";

    public string AppNormal { get; private init; } = "";

    public string AppReadyToRun { get; private init; } = "";

    public string Nginx { get; private init; } = "";

    public string Temp { get; private init; } = "";

    public string Assets => Path.Combine(Temp, "assets");

    public static Settings Read(string[] args)
    {
        string Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault()
            ?? throw new ArgumentException($"missing {name} <path>");
        string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
        double Number(string name, double fallback) => double.Parse(Env(name, fallback.ToString(CultureInfo.InvariantCulture)).TrimEnd('s'), CultureInfo.InvariantCulture);

        var variants = Env("VARIANTS", "classic library library-r2r library-delay0 library-pgo0").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(name => Variant.All.FirstOrDefault(v => v.Name == name)
                ?? throw new ArgumentException($"VARIANTS: unknown '{name}' ({string.Join(", ", Variant.All.Select(v => v.Name))})"))
            .ToList();

        // classic and library always run: the steady-state measurements need them, and their warm-up
        // before those measurements is their curve on the mix.
        variants.RemoveAll(v => v == Variant.Classic || v == Variant.Library);
        variants.InsertRange(0, [Variant.Classic, Variant.Library]);
        var curveWorkloads = Env("CURVE_WORKLOADS", "mix static").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (curveWorkloads.FirstOrDefault(w => !Workload.Names.Contains(w)) is { } unknown)
        {
            throw new ArgumentException($"CURVE_WORKLOADS: unknown '{unknown}' (static, app, mix)");
        }

        var settings = new Settings
        {
            Rounds = (int)Number("ROUNDS", 3),
            Duration = Number("DURATION", 10),
            WarmupSeconds = (int)Number("WARMUP_SECONDS", 60),
            Rate = Number("RATE", 0),
            Connections = (int)Number("CONNECTIONS", 64),
            ServerCpu = Env("SERVER_CPU", "0"),
            LoadCpu = Env("LOAD_CPU", "1"),
            Output = Path.GetFullPath(Env("OUTPUT", "deploy-results")),
            AcceptEncoding = Env("ACCEPT_ENCODING", "gzip") is var encoding && encoding == "none" ? "" : encoding,
            Variants = variants,
            CurveWorkloads = curveWorkloads,
            Recommended = Env("RECOMMENDED", "library"),
            AppNormal = Arg("--app"),
            AppReadyToRun = Arg("--app-r2r"),
            Nginx = Arg("--nginx"),
            Temp = Arg("--temp"),
        };
        if (settings.Rounds < 1 || settings.Duration <= 0 || settings.WarmupSeconds < 1 || settings.Connections < 1)
        {
            throw new ArgumentException("ROUNDS, DURATION, WARMUP_SECONDS and CONNECTIONS must be positive");
        }

        if (variants.All(v => v.Name != settings.Recommended))
        {
            throw new ArgumentException($"RECOMMENDED={settings.Recommended} is not among VARIANTS");
        }

        return settings;
    }
}
