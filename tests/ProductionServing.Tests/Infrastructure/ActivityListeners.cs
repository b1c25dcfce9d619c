namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// The tests that add an <see cref="System.Diagnostics.ActivityListener"/>: listeners are process-wide and an
/// activity's sampling is the most any listener asks for, so these run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ActivityListeners
{
    public const string Name = "ActivityListeners";
}
