using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// W3C Trace Context on forwarded requests (docs/observability.md, "Trace context"): the upstream's <c>traceparent</c> names the
/// request's span (or, when outgoing HTTP tracing is observed, the HttpClient span that is its child)
/// and carries the request's trace id, which is the client's when it sent one; with no Activity at all
/// the client's headers pass as they came. The upstream echoes the trace headers it received.
/// </summary>
/// <remarks>
/// ActivityListeners are process-wide and change what every host in the process does (a System.Net.Http
/// listener makes every proxied request start a span), so these tests run alone.
/// </remarks>
[Collection(ActivityListeners.Name)]
public sealed class TraceContextTests
{
    private const string ClientTraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string ClientParent = "00-" + ClientTraceId + "-b7ad6b7169203331-01";
    private const string ClientState = "congo=t61rcWkgMzE";

    /// <summary>Activity.Current as each proxied request entered the pipeline.</summary>
    private readonly ConcurrentQueue<Activity?> _requestActivities = new();

    [Fact]
    public async Task ListenerOnAspNetCore_TheUpstreamsParentIsTheRequestsSpan()
    {
        using var listener = Listen(httpClient: false, out _);
        await using var upstream = await EchoAsync();
        await using var host = await ProxyAsync(upstream);

        var (parent, state) = await SendAsync(host);

        var request = Assert.Single(_requestActivities)!;
        Assert.Equal(request.Id, parent);
        Assert.Null(state);
    }

    [Fact]
    public async Task ListenerOnAspNetCoreAndHttpClient_TheUpstreamsParentIsTheHttpClientSpan_AChildOfTheRequests()
    {
        using var listener = Listen(httpClient: true, out var clientSpans);
        await using var upstream = await EchoAsync();
        await using var host = await ProxyAsync(upstream);

        var (parent, _) = await SendAsync(host);

        var request = Assert.Single(_requestActivities)!;
        var call = Assert.Single(clientSpans, s => s.ParentSpanId == request.SpanId);
        Assert.Equal(request.TraceId, call.TraceId);
        Assert.Equal(call.Id, parent);
    }

    [Fact]
    public async Task ClientTraceparent_KeepsItsTraceId_ButTheParentIsOurs_AndNothingIsSentTwice()
    {
        // No listener: the request's Activity exists because logging is on (ServingHost logs at Debug),
        // which is how most apps run.
        await using var upstream = await EchoAsync();
        await using var host = await ProxyAsync(upstream);

        var (parent, state) = await SendAsync(host, ClientParent, ClientState);

        var request = Assert.Single(_requestActivities)!;
        Assert.Equal(ClientTraceId, request.TraceId.ToHexString());
        Assert.Equal($"00-{ClientTraceId}-{request.SpanId.ToHexString()}-01", parent);
        Assert.NotEqual(ClientParent, parent);
        Assert.Equal(ClientState, state);
    }

    [Fact]
    public async Task NoActivity_ForwardsTheClientsHeadersAsTheyCame()
    {
        // Without a logger or a listener ASP.NET Core makes no Activity for the request.
        await using var upstream = await EchoAsync();
        await using var host = await ProxyAsync(upstream, services => services.RemoveAll<ILoggerProvider>());

        var (parent, state) = await SendAsync(host, ClientParent, ClientState);

        Assert.Null(Assert.Single(_requestActivities));
        Assert.Equal(ClientParent, parent);
        Assert.Equal(ClientState, state);
    }

    /// <summary>An upstream answering with the trace headers it received, each list joined with '|' (two values would show).</summary>
    private static Task<UpstreamHost> EchoAsync() => UpstreamHost.StartAsync(static context =>
        context.Response.WriteAsync(string.Join('|', context.Request.Headers.TraceParent.ToArray()) + "\n" + string.Join('|', context.Request.Headers.TraceState.ToArray())));

    private Task<ServingHost> ProxyAsync(UpstreamHost upstream, Action<IServiceCollection>? services = null) =>
        ServingHost.StartAsync(ServingJson.PassAll(upstream.Address), beforeServing: app => app.Use((context, next) =>
        {
            _requestActivities.Enqueue(Activity.Current);
            return next(context);
        }), services: services);

    /// <summary>Sends a GET with the given trace headers; returns what the upstream received (null when absent).</summary>
    private static async Task<(string? Parent, string? State)> SendAsync(ServingHost host, string? parent = null, string? state = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/traced");
        if (parent is not null)
        {
            request.Headers.TryAddWithoutValidation("traceparent", parent);
            request.Headers.TryAddWithoutValidation("tracestate", state);
        }

        using var response = await host.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var echoed = (await response.Content.ReadAsStringAsync()).Split('\n');
        return (echoed[0].Length == 0 ? null : echoed[0], echoed[1].Length == 0 ? null : echoed[1]);
    }

    /// <summary>Samples every request Activity, and with <paramref name="httpClient"/> every outgoing one, which it collects.</summary>
    private static ActivityListener Listen(bool httpClient, out ConcurrentQueue<Activity> clientSpans)
    {
        var spans = clientSpans = new ConcurrentQueue<Activity>();
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore" || (httpClient && source.Name == "System.Net.Http"),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = activity =>
            {
                if (activity.Source.Name == "System.Net.Http")
                {
                    spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
