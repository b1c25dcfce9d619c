using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// An app with ProductionServing on real Kestrel at 127.0.0.1, port 0, with in-memory configuration
/// that tests can change and reload, a fake log collector, and an app that echoes the selected location.
/// </summary>
internal sealed class ServingHost : IAsyncDisposable
{
    private int _appInvocations;

    private ServingHost(WebApplication app)
    {
        App = app;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Port = new Uri(address).Port;
        Client = new HttpClient { BaseAddress = new Uri(address), Timeout = TestTimeouts.Wait };
    }

    public WebApplication App { get; }

    public int Port { get; }

    public HttpClient Client { get; }

    /// <summary>How many requests reached the app (past ProductionServing).</summary>
    public int AppInvocations => Volatile.Read(ref _appInvocations);

    public FakeLogCollector Logs => App.Services.GetFakeLogCollector();

    /// <summary>
    /// Starts a host whose configuration is <paramref name="json"/> (flattened into a reloadable in-memory source).
    /// The app answers every request it gets with <c>index|match|handler|pool|path</c>. <paramref name="services"/>
    /// may add or replace services (a <c>FakeTimeProvider</c> as the <see cref="TimeProvider"/>). <paramref name="protocols"/>
    /// sets the endpoint's protocols: over cleartext, Kestrel speaks HTTP/2 (prior knowledge) only on an HTTP/2-only endpoint.
    /// <paramref name="address"/> is the loopback address it listens on (127.0.0.1, or ::1 for an IPv6 client).
    /// </summary>
    public static async Task<ServingHost> StartAsync(string json, Action<WebApplication>? beforeServing = null,
        Action<WebApplication>? afterServing = null, string? contentRoot = null, Action<IServiceCollection>? services = null,
        HttpProtocols protocols = HttpProtocols.Http1AndHttp2, IPAddress? address = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test", ContentRootPath = contentRoot });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(TestConfig.FromJson(json).AsEnumerable());
        builder.WebHost.UseKestrel(options => options.Listen(address ?? IPAddress.Loopback, 0, listen => listen.Protocols = protocols));
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddFakeLogging();
        builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));
        services?.Invoke(builder.Services);

        var app = builder.Build();
        ServingHost? host = null;
        beforeServing?.Invoke(app);
        app.UseProductionServing();
        afterServing?.Invoke(app);
        app.Run(context =>
        {
            Interlocked.Increment(ref host!._appInvocations);
            var location = context.Features.Get<ServingLocation>();
            var body = Encoding.UTF8.GetBytes($"{location?.Index}|{location?.Match}|{location?.Handler}|{location?.Pool}|{context.Request.Path}");
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
        });

        await app.StartAsync().WaitAsync(TestTimeouts.Wait);
        host = new ServingHost(app);
        return host;
    }

    /// <summary>Sets configuration keys (colon-separated paths under the root) and fires the reload, as a changed file would.</summary>
    public void Reload(params (string Key, string? Value)[] settings)
    {
        foreach (var (key, value) in settings)
        {
            App.Configuration[key] = value;
        }

        ((IConfigurationRoot)App.Configuration).Reload();
    }

    /// <summary>Sends a request line exactly as given (no client-side normalization) and reads the whole response.</summary>
    public async Task<RawResponse> SendRawAsync(string requestLine)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{requestLine}\r\nHost: localhost\r\nConnection: close\r\n\r\n"), timeout.Token);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, timeout.Token);
        return RawResponse.Parse(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync().WaitAsync(TestTimeouts.Wait);
        await App.DisposeAsync();
    }
}

/// <summary>A response read off a socket.</summary>
internal sealed record RawResponse(int StatusCode, string Head, string Body)
{
    public static RawResponse Parse(string text)
    {
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headEnd > 0, $"No complete response head in: {text}");
        var status = int.Parse(text.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture);
        return new RawResponse(status, text[..headEnd], text[(headEnd + 4)..]);
    }
}
