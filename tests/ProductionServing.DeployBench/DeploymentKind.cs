namespace ProductionServing.DeployBench;

internal enum DeploymentKind
{
    /// <summary>nginx in front of the app (the app with its endpoints only).</summary>
    Classic,

    /// <summary>The app alone with UseProductionServing().</summary>
    Library,
}
