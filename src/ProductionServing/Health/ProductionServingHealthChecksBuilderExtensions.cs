using ProductionServing.Health;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds ProductionServing's health checks to <c>AddHealthChecks()</c>.</summary>
public static class ProductionServingHealthChecksBuilderExtensions
{
    /// <summary>The tag of the three checks: map them as a readiness probe with <c>MapHealthChecks("/ready", …)</c> filtered on it.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Adds <c>productionserving-pools</c> (Degraded while a pool is rejecting requests), <c>productionserving-upstreams</c>
    /// (Unhealthy while every server of an upstream group is down, Degraded while some are) and
    /// <c>productionserving-shutdown</c> (Unhealthy from the moment the host begins stopping), each tagged
    /// <see cref="ReadyTag"/>. Requires <c>AddProductionServing</c>.
    /// </summary>
    /// <param name="builder">The builder <c>AddHealthChecks()</c> returned.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IHealthChecksBuilder AddProductionServing(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string[] tags = [ReadyTag];
        builder.AddCheck<PoolsHealthCheck>("productionserving-pools", tags: tags);
        builder.AddCheck<UpstreamsHealthCheck>("productionserving-upstreams", tags: tags);
        builder.AddCheck<ShutdownHealthCheck>("productionserving-shutdown", tags: tags);
        return builder;
    }
}
