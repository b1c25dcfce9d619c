using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Diagnostics;

/// <summary>The request's span carries the names the metrics use: location, handler, <c>error.type</c>, and the location as <c>http.route</c>.</summary>
[Collection(ActivityListeners.Name)]
public sealed class SpanTests : IDisposable
{
    private readonly StaticSite _site = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    /// <summary>Records every request's span but those whose trace id starts with <see cref="Unrecorded"/>, which it samples without recording.</summary>
    public SpanTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == "Microsoft.AspNetCore",
            Sample = static (ref ActivityCreationOptions<ActivityContext> options) =>
                options.TraceId.ToHexString().StartsWith(Unrecorded, StringComparison.Ordinal)
                    ? ActivitySamplingResult.AllData
                    : ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The first hex digits of the trace ids this listener samples out (all data, not recorded).</summary>
    private const string Unrecorded = "00000000";

    public void Dispose()
    {
        _listener.Dispose();
        _site.Dispose();
    }

    [Fact]
    public async Task FailedStaticRequest_SpanHasLocationHandlerErrorTypeAndRoute()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.StaticRoot(_site.Root)));

        var span = await SendAsync(host, "/missing-span.txt", HttpStatusCode.NotFound);
        Assert.Equal("/", span.GetTagItem("production_serving.location"));
        Assert.Equal("static", span.GetTagItem("production_serving.handler"));
        Assert.Equal("not_found", span.GetTagItem("error.type"));
        Assert.Equal("/", span.GetTagItem("http.route"));
    }

    [Fact]
    public async Task SuccessfulAppRequest_SpanHasNoErrorTypeAndKeepsTheAppsRoute()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config("""{ "Match": "/app/", "App": {} }"""));

        var span = await SendAsync(host, "/app/ok-span", HttpStatusCode.OK);
        Assert.Equal("/app/", span.GetTagItem("production_serving.location"));
        Assert.Equal("app", span.GetTagItem("production_serving.handler"));
        Assert.Null(span.GetTagItem("error.type"));
        Assert.Null(span.GetTagItem("http.route"));
    }

    [Fact]
    public async Task UnrecordedSpan_GetsNoTags()
    {
        // A span no tracer records (ASP.NET Core makes one per request for logging scopes) costs no tag.
        await using var host = await ServingHost.StartAsync(ServingJson.Config(ServingJson.StaticRoot(_site.Root)));

        var span = await SendAsync(host, "/missing-unrecorded.txt", HttpStatusCode.NotFound, recorded: false);
        Assert.False(span.Recorded);
        Assert.Null(span.GetTagItem("production_serving.location"));
        Assert.Null(span.GetTagItem("error.type"));
    }

    /// <summary>
    /// Sends with a trace id of its own, so the server's span is told apart from those of tests running
    /// at the same time (the listener hears every host in the process).
    /// </summary>
    private async Task<Activity> SendAsync(ServingHost host, string path, HttpStatusCode expected, bool recorded = true)
    {
        var random = ActivityTraceId.CreateRandom().ToHexString();
        var traceId = ActivityTraceId.CreateFromString(recorded ? "1" + random[1..] : Unrecorded + random[Unrecorded.Length..]);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-{(recorded ? "01" : "00")}");
        Assert.Equal(expected, (await host.Client.SendAsync(request)).StatusCode);
        return await Poll.ForAsync(() => _stopped.FirstOrDefault(a => a.TraceId == traceId), "the request's span");
    }
}
