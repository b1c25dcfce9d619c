using System.Collections;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Configuration;

/// <summary>
/// The public options classes as users meet them: names that need no qualifying beside ASP.NET Core's own,
/// collections that exist before anything is configured, and JSON <c>null</c> keeping a list's default.
/// </summary>
public sealed class OptionsSurfaceTests
{
    private static readonly Type[] OptionsTypes = Array.FindAll(
        typeof(ProductionServingOptions).Assembly.GetExportedTypes(), static t => t.Namespace == "ProductionServing");

    [Fact]
    public void PublicTypeNames_DoNotCollideWithTheAspNetCoreSharedFramework()
    {
        // An app imports ASP.NET Core namespaces beside ours: a type of the same simple name (ASP.NET Core's
        // HealthCheckOptions, which MapHealthChecks takes) would make every use of either ambiguous (CS0104).
        var ours = new HashSet<string>(Array.ConvertAll(OptionsTypes, static t => t.Name), StringComparer.Ordinal);
        var collisions = new List<string>();
        var framework = Path.GetDirectoryName(typeof(WebApplication).Assembly.Location)!;
        foreach (var file in Directory.GetFiles(framework, "*.dll"))
        {
            foreach (var type in Assembly.LoadFrom(file).GetExportedTypes())
            {
                if (ours.Contains(type.Name))
                {
                    collisions.Add(type.FullName!);
                }
            }
        }

        Assert.Empty(collisions);
    }

    [Fact]
    public void EveryCollection_OfEveryOptionsClass_StartsNonNull()
    {
        var nulls = new List<string>();
        foreach (var type in OptionsTypes)
        {
            if (!type.IsClass || type.GetConstructor(Type.EmptyTypes) is null)
            {
                continue;
            }

            var instance = Activator.CreateInstance(type);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                // Allow's absence means everyone, and an empty list no one (nginx's "deny all"): null is a value there.
                if (property.PropertyType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(property.PropertyType)
                    && property.GetValue(instance) is null && !(type == typeof(LocationOptions) && property.Name == nameof(LocationOptions.Allow)))
                {
                    nulls.Add(type.Name + "." + property.Name);
                }
            }
        }

        Assert.Empty(nulls);
    }

    [Fact]
    public void IndexUnset_IsIndexHtml_AndCanBeAddedTo()
    {
        var options = new StaticOptions();
        options.Index.Add("index.htm");

        Assert.Equal(["index.html", "index.htm"], options.Index);
    }

    [Fact]
    public void JsonNull_ForAList_KeepsItsDefault()
    {
        var options = Bind("""
            { "Locations": [ { "Match": "/", "Static": { "Index": null, "TryFiles": null } } ],
              "Upstreams": { "b": { "Servers": null } }, "Pools": null }
            """);

        Assert.Empty(options.BindingErrors);
        var location = Assert.Single(options.Locations);
        Assert.Equal(["index.html"], location.Static!.Index);
        Assert.Empty(location.Static.TryFiles);
        Assert.Empty(options.Upstreams["b"].Servers);
        Assert.Empty(options.Pools);
    }

    [Fact]
    public void JsonNull_ForLocationsAndUpstreams_LeavesThemEmpty()
    {
        var options = Bind("""{ "Locations": null, "Upstreams": null }""");

        Assert.Empty(options.BindingErrors);
        Assert.Empty(options.Locations);
        Assert.Empty(options.Upstreams);
    }

    private static ProductionServingOptions Bind(string section)
    {
        var options = new ProductionServingOptions();
        new ProductionServing.Configuration.ServingSectionBinder(TestConfig.FromJson(section)).Configure(options);
        return options;
    }
}
