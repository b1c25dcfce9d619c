namespace ProductionServing.DeployBench;

/// <summary>
/// A way to start a deployment for the warm-up curves: which deployment, which publish of the app
/// (<c>normal</c> or <c>r2r</c>, ReadyToRun) and which runtime settings (environment variables read by
/// the .NET runtime at startup; none of them changes the library's code).
/// </summary>
internal sealed record Variant(string Name, DeploymentKind Kind, string Published, IReadOnlyDictionary<string, string> Environment, string Description)
{
    public static readonly Variant Classic = new("classic", DeploymentKind.Classic, "normal", Env(), "nginx + the app, published normally");
    public static readonly Variant Library = new("library", DeploymentKind.Library, "normal", Env(), "UseProductionServing, published normally");

    /// <summary>Every variant VARIANTS may name.</summary>
    public static readonly IReadOnlyList<Variant> All =
    [
        Classic,
        new("classic-r2r", DeploymentKind.Classic, "r2r", Env(), "nginx + the app published ReadyToRun"),
        Library,
        new("library-r2r", DeploymentKind.Library, "r2r", Env(), "published ReadyToRun (-p:PublishReadyToRun=true)"),
        // Call counting starts 100 ms after the last tier-0 method was compiled (TC_CallCountingDelayMs,
        // "Tiered compilation" in the runtime's docs/design/features/tiered-compilation.md); a busy
        // start keeps pushing it back. 0 counts calls from the first one.
        new("library-delay0", DeploymentKind.Library, "normal", Env(("DOTNET_TC_CallCountingDelayMs", "0")), "DOTNET_TC_CallCountingDelayMs=0"),
        new("library-r2r-delay0", DeploymentKind.Library, "r2r", Env(("DOTNET_TC_CallCountingDelayMs", "0")), "ReadyToRun + DOTNET_TC_CallCountingDelayMs=0"),
        // Without the instrumented tier a hot method goes from tier 0 (or ReadyToRun code) straight to
        // tier 1, sooner, but without profile-guided optimization: the closest a setting comes to
        // [MethodImpl(AggressiveOptimization)], whose methods are never instrumented either.
        new("library-pgo0", DeploymentKind.Library, "normal", Env(("DOTNET_TieredPGO", "0")), "DOTNET_TieredPGO=0 (no instrumented tier, no PGO)"),
        new("library-r2r-pgo0", DeploymentKind.Library, "r2r", Env(("DOTNET_TieredPGO", "0")), "ReadyToRun + DOTNET_TieredPGO=0"),
        // Every method compiled once, fully optimized, no tiers: the slowest start, no PGO.
        new("library-tc0", DeploymentKind.Library, "normal", Env(("DOTNET_TieredCompilation", "0")), "DOTNET_TieredCompilation=0 (full JIT at first call)"),
        // A Kestrel (socket transport) setting, not the library's: socket completions run on the
        // runtime's epoll thread instead of being queued to the thread pool. For both deployments,
        // so classic's app can have it too.
        new("classic-inline", DeploymentKind.Classic, "normal", Env(("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1")), "nginx + the app with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1"),
        new("library-inline", DeploymentKind.Library, "normal", Env(("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1")), "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 (a Kestrel transport setting)"),
    ];

    private static Dictionary<string, string> Env(params (string Name, string Value)[] pairs) => pairs.ToDictionary(p => p.Name, p => p.Value);
}
