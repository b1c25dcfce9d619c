namespace ProductionServing;

/// <summary>Hands a location's requests to the app: the rest of the ASP.NET Core pipeline.</summary>
public sealed class AppOptions
{
    /// <summary>
    /// The worker pool the app runs in: a key of <see cref="ProductionServingOptions.Pools"/> or
    /// <c>default</c>. <see langword="null"/> runs the app directly, with no pool (for health
    /// checks that must answer even when every pool is saturated). Default: <c>default</c>.
    /// </summary>
    public string? Pool { get; set; } = PoolOptions.DefaultPoolName;
}
