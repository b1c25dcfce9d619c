using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A sample under samples/ started as <c>dotnet run</c> starts it (its own Program, appsettings.json and
/// content root) through WebApplicationFactory, but on real Kestrel at 127.0.0.1 port 0 rather than
/// TestServer, so requests cross a socket; settings given are laid over its appsettings.json, and its
/// logs are collected.
/// </summary>
public sealed class SampleHost<TEntryPoint> : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private Uri? _address;

    /// <summary>The sample as its folder configures it (xunit builds class fixtures with this one public constructor).</summary>
    public SampleHost()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>The sample with configuration keys (colon-separated paths) set over its appsettings.json.</summary>
    internal SampleHost(IReadOnlyDictionary<string, string?> settings)
    {
        _settings = settings;
    }

    /// <summary>The address Kestrel bound (<c>http://127.0.0.1:port</c>); the host starts on first use.</summary>
    public Uri Address => _address ??= Bind();

    /// <summary>What the sample logged, read with <see cref="FakeLogCollector.GetSnapshot"/>.</summary>
    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    /// <summary>A client of the sample that follows no redirects and decodes nothing, so a test sees the response as sent.</summary>
    public HttpClient CreateRawClient() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None })
        {
            BaseAddress = Address,
            Timeout = TestTimeouts.Wait,
        };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Added after the sample's own sources, so these win over its appsettings.json.
        builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(_settings));
        builder.ConfigureLogging(logging => logging.AddFakeLogging());
    }

    private Uri Bind()
    {
        // Port 0 on 127.0.0.1 (the sample's own "Urls" is overridden, with Kestrel's warning saying so).
        UseKestrel(0);
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        return new Uri(addresses.Single());
    }
}
