using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductionServing.Tests.Docs;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Security;

/// <summary>
/// The Kestrel limits SECURITY.md recommends for an internet-facing host: its example binds (every name
/// is one Kestrel reads, every value differs from Kestrel's default, so a misspelt name cannot pass
/// unnoticed), and each limit does what it is recommended for, shown with values small enough for a
/// test: a client that sends its headers slowly is cut off, oversized headers get 431, connections past
/// the limit are closed unanswered, a body sent too slowly ends the request.
/// </summary>
public sealed class KestrelLimitsTests
{
    private const string App = """{ "ProductionServing": { "Locations": [ { "Match": "/", "App": {} } ] } }""";

    [Fact]
    public async Task RecommendedLimits_InSecurityMd_AreWhatKestrelRuns()
    {
        var example = Assert.Single(DocsExample.All, e => e.File == "SECURITY.md" && e.Text.Contains("\"Kestrel\"", StringComparison.Ordinal));
        await using var host = await StartAsync(example.Document);
        var options = host.App.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
        var defaults = new KestrelServerOptions();

        using var json = JsonDocument.Parse(example.Document, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var kestrel = json.RootElement.GetProperty("Kestrel");
        Assert.False(kestrel.GetProperty("AddServerHeader").GetBoolean());
        Assert.False(options.AddServerHeader);
        var limits = kestrel.GetProperty("Limits").EnumerateObject().ToList();
        Assert.NotEmpty(limits);
        foreach (var limit in limits)
        {
            var property = typeof(KestrelServerLimits).GetProperty(limit.Name);
            Assert.True(property is not null, $"Kestrel has no limit named {limit.Name}.");
            var expected = limit.Value.ValueKind == JsonValueKind.String
                ? (object)TimeSpan.Parse(limit.Value.GetString()!, CultureInfo.InvariantCulture)
                : limit.Value.GetInt64();
            var bound = property.GetValue(options.Limits);
            Assert.True(Equals(expected, Normalize(bound)), $"{limit.Name}: Kestrel runs {bound}, the example says {limit.Value}.");
            Assert.False(Equals(expected, Normalize(property.GetValue(defaults.Limits))), $"{limit.Name}: the example repeats Kestrel's default.");
        }
    }

    [Fact]
    public async Task SlowRequestHeaders_AreCutOff_AtRequestHeadersTimeout()
    {
        // Slowloris: a client that opens connections and trickles header lines holds them open for as long
        // as the server waits for the end of the head (nginx's client_header_timeout).
        await using var host = await StartAsync(WithLimits(App, "\"RequestHeadersTimeout\": \"00:00:01\""));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: localhost\r\nX-Trickle: 1\r\n");
        await client.ReadToCloseAsync();

        Assert.True(client.Received.Length == 0 || client.Received.StartsWith("HTTP/1.1 408 ", StringComparison.Ordinal), client.Received);
        Assert.Equal(0, host.AppInvocations);
    }

    [Fact]
    public async Task OversizedRequestHeaders_Get431_AndNeverReachTheApp()
    {
        await using var host = await StartAsync(WithLimits(App, "\"MaxRequestHeadersTotalSize\": 8192"));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync($"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {new string('a', 9000)}\r\n\r\n");
        await client.ReadToCloseAsync();

        Assert.StartsWith("HTTP/1.1 431 ", client.Received, StringComparison.Ordinal);
        Assert.Equal(0, host.AppInvocations);
    }

    [Fact]
    public async Task ConnectionsPastMaxConcurrentConnections_AreClosedUnanswered_UntilOneEnds()
    {
        await using var host = await StartAsync(WithLimits(App, "\"MaxConcurrentConnections\": 2"));
        using var first = await RawClient.ConnectAsync(host.Port);
        using var second = await RawClient.ConnectAsync(host.Port);
        foreach (var client in new[] { first, second })
        {
            // A completed request shows the connection was accepted and counted; keep-alive holds it open.
            await client.SendAsync("GET /held HTTP/1.1\r\nHost: localhost\r\n\r\n");
            await client.ReadUntilAsync("|/held");
        }

        using (var third = await RawClient.ConnectAsync(host.Port))
        {
            await third.SendAsync("GET /third HTTP/1.1\r\nHost: localhost\r\n\r\n");
            await third.ReadToCloseAsync();
            Assert.Equal("", third.Received);
        }

        first.Dispose();
        await Poll.UntilAsync(async () =>
        {
            using var next = await RawClient.ConnectAsync(host.Port);
            await next.SendAsync("GET /next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            await next.ReadToCloseAsync();
            return next.Received.EndsWith("|/next", StringComparison.Ordinal);
        }, "a connection accepted once another ended");
    }

    [Fact]
    public async Task RequestBodySentTooSlowly_EndsTheRequest()
    {
        // MinRequestBodyDataRate (Kestrel's default: 240 bytes/s after 5 s) is what ends a body that
        // trickles; it has no configuration key (MinDataRate has no parameterless constructor), so it is
        // set in code here, with a shorter grace period than the default for the test's sake.
        await using var host = await ServingHost.StartAsync(
            """{ "ProductionServing": { "Locations": [ { "Match": "/", "App": {} } ] } }""",
            beforeServing: app => app.Use(async (context, next) =>
            {
                // The app reads the body, as an upload endpoint would.
                await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
                await next(context);
            }),
            services: services => services.Configure<KestrelServerOptions>(options =>
                options.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(2))));

        using var client = await RawClient.ConnectAsync(host.Port);
        await client.SendAsync("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\nfirst bytes");
        await client.ReadToCloseAsync();

        Assert.True(client.Received.Length == 0 || client.Received.StartsWith("HTTP/1.1 408 ", StringComparison.Ordinal), client.Received);
        Assert.Equal(0, host.AppInvocations);
    }

    /// <summary>A host whose Kestrel options are bound from the <c>Kestrel</c> section, as SECURITY.md has Program.cs do.</summary>
    private static Task<ServingHost> StartAsync(string json) =>
        ServingHost.StartAsync(json, services: services => services.AddOptions<KestrelServerOptions>().BindConfiguration("Kestrel"));

    /// <summary><paramref name="json"/> with a <c>Kestrel:Limits</c> section holding <paramref name="limits"/>.</summary>
    private static string WithLimits(string json, string limits) =>
        string.Concat("""{ "Kestrel": { "Limits": { """, limits, " } }, ", json.AsSpan(1));

    /// <summary>Kestrel's nullable limits as the JSON has them (a long, a TimeSpan).</summary>
    private static object? Normalize(object? value) => value switch
    {
        int i => (long)i,
        _ => value,
    };
}
