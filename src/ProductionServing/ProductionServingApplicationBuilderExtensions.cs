using Microsoft.Extensions.DependencyInjection;
using ProductionServing;
using ProductionServing.Configuration;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds ProductionServing to the request pipeline.</summary>
public static class ProductionServingApplicationBuilderExtensions
{
    /// <summary>
    /// Adds the ProductionServing middleware: each request is matched to a location (nginx rules) and
    /// handed to its handler; unmatched requests go on to the rest of the pipeline (the app).
    /// </summary>
    /// <param name="app">The application builder.</param>
    /// <returns>The same application builder, for chaining.</returns>
    /// <remarks>
    /// Call it early, before the app's own middleware and endpoints: it routes on the request target
    /// as the client sent it, like a proxy in front of the app. The configuration is compiled and
    /// validated here, so an invalid one throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>
    /// before the server starts listening.
    /// </remarks>
    /// <exception cref="InvalidOperationException"><c>services.AddProductionServing(...)</c> was not called.</exception>
    public static IApplicationBuilder UseProductionServing(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Resolving the holder compiles and validates the configuration now, before Kestrel listens.
        _ = app.ApplicationServices.GetService<ServingConfigHolder>() ?? throw new InvalidOperationException(
            "UseProductionServing() needs services.AddProductionServing(...) to be called first, for example "
            + "builder.Services.AddProductionServing(builder.Configuration.GetSection(\"ProductionServing\")).");
        return app.UseMiddleware<ProductionServingMiddleware>();
    }
}
