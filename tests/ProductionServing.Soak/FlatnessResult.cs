namespace ProductionServing.Soak;

/// <summary>
/// One series checked by its <see cref="FlatnessRule"/>: its value just after the warm-up and at the
/// end (each the median of three samples), its median, the fitted line (per second, and its value at
/// zero) and the growth that line gives across the window, against the bound.
/// </summary>
internal sealed record FlatnessResult(
    FlatnessRule Rule, double AfterWarmup, double End, double Median, double Slope, double Intercept, double Growth, double Bound, bool Flat);
