using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Functional;

/// <summary>Startup: a clear error before the server listens, never a half-configured server.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task UseWithoutAdd_FailsNamingTheMissingCall()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        await using var app = builder.Build();

        var exception = Assert.Throws<InvalidOperationException>(() => app.UseProductionServing());

        Assert.Contains("services.AddProductionServing(...)", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidConfiguration_FailsInUseProductionServing_BeforeTheServerStarts()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(TestConfig.FromJson(
            """{ "ProductionServing": { "Locations": [ { "Match": "~~ /x", "App": {} } ] } }""").AsEnumerable());
        builder.WebHost.UseTestServer();
        builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));
        await using var app = builder.Build();

        var exception = Assert.Throws<OptionsValidationException>(() => app.UseProductionServing());

        Assert.Equal(["Locations[0].Match: unknown modifier '~~'; use =, ^~, ~ or ~*."], exception.Failures);
    }

    [Fact]
    public void NullArguments_AreRejected()
    {
        var services = new ServiceCollection();

        Assert.Throws<ArgumentNullException>(() => services.AddProductionServing((IConfiguration)null!));
        Assert.Throws<ArgumentNullException>(() => services.AddProductionServing((Action<ProductionServingOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddProductionServing(_ => { }));
        Assert.Throws<ArgumentNullException>(() => ((IApplicationBuilder)null!).UseProductionServing());
    }
}
