using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A real upstream for proxy tests: Kestrel on 127.0.0.1, port 0, running the given handler, and
/// recording what arrived (method, raw target, headers) so tests can assert what was forwarded.
/// </summary>
internal sealed class UpstreamHost : IAsyncDisposable
{
    private UpstreamHost(WebApplication app)
    {
        App = app;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Address = address.TrimEnd('/');
        Port = new Uri(address).Port;
    }

    public WebApplication App { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>, without a trailing slash.</summary>
    public string Address { get; }

    public int Port { get; }

    /// <summary>Every request that reached this upstream, in arrival order.</summary>
    public ConcurrentQueue<UpstreamRequest> Requests { get; } = new();

    /// <summary>The last request that arrived, or an assertion failure when none did.</summary>
    public UpstreamRequest Last => Requests.LastOrDefault() ?? throw new Xunit.Sdk.XunitException("No request reached the upstream.");

    /// <summary>Starts an upstream that runs <paramref name="handler"/> for every request (after recording it).</summary>
    public static async Task<UpstreamHost> StartAsync(RequestDelegate handler, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test" });
        builder.Configuration.Sources.Clear();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        var app = builder.Build();
        UpstreamHost? host = null;
        app.Use((context, next) =>
        {
            host!.Requests.Enqueue(UpstreamRequest.From(context));
            return next(context);
        });
        app.Run(handler);
        await app.StartAsync().WaitAsync(TestTimeouts.Wait);
        host = new UpstreamHost(app);
        return host;
    }

    /// <summary>An upstream answering every request with 200 and <c>name</c> as the body.</summary>
    public static Task<UpstreamHost> NamedAsync(string name) =>
        StartAsync(context => context.Response.WriteAsync(name));

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync().WaitAsync(TestTimeouts.Wait);
        await App.DisposeAsync();
    }
}

/// <summary>What an upstream received.</summary>
internal sealed record UpstreamRequest(string Method, string RawTarget, string Protocol, IReadOnlyDictionary<string, string[]> Headers)
{
    public static UpstreamRequest From(HttpContext context)
    {
        var headers = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in context.Request.Headers)
        {
            headers[name] = values.ToArray()!;
        }

        return new UpstreamRequest(context.Request.Method, context.Features.Get<IHttpRequestFeature>()!.RawTarget, context.Request.Protocol, headers);
    }

    /// <summary>The header's values joined with ", ", or null when it did not arrive.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var values) ? string.Join(", ", values) : null;
}
