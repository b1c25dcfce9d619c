using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using ProductionServing.Configuration;
using ProductionServing.Directives;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Directives;

/// <summary>
/// <c>RateLimit</c> (nginx <c>limit_req</c>) over real Kestrel, with cases from nginx-tests limit_req.t and
/// limit_req2.t. A rate of one request a minute refills a fiftieth of a request in the longest test, so the
/// counts do not depend on how fast the machine is; the tests that need the rate to pass wait for its result
/// (a queued request, a dropped key) under a bound, never for a time.
/// </summary>
public sealed class RateLimitTests
{
    private static string App(string match, string rateLimit) =>
        $$"""{ "Match": "{{ServingJson.Escape(match)}}", "App": { "Pool": null }, "RateLimit": { {{rateLimit}} } }""";

    private static RequestRateLimit Limiter(ServingHost host, int location) =>
        host.App.Services.GetRequiredService<ServingConfigHolder>().Current.Locations[location].RateLimit!;

    private static RateLimitKey Loopback => RateLimitKey.TryFromAddress(IPAddress.Loopback, out var key) ? key : default;

    private static async Task<HttpResponseMessage> GetAsync(ServingHost host, string path, string? apiKey = null, CancellationToken cancel = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        return await host.Client.SendAsync(request, cancel);
    }

    private static async Task<HttpStatusCode> StatusAsync(ServingHost host, string path, string? apiKey = null)
    {
        using var response = await GetAsync(host, path, apiKey);
        return response.StatusCode;
    }

    [Fact]
    public async Task Burst_IsAdmitted_ThenRefusedWith429AndRetryAfter()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(App("/", "\"Rate\": \"1r/m\", \"Burst\": 2")));
        using var rejections = new MetricCollector<long>(host.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "ProductionServing", "production_serving.rate_limit.rejections");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/a"));
        }

        using var refused = await GetAsync(host, "/a");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("429 Too Many Requests\n", await refused.Content.ReadAsStringAsync());

        // One request a minute: the next one has room in at most 60 s, whole seconds rounded up.
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 60);

        var rejection = Assert.Single(rejections.GetMeasurementSnapshot());
        Assert.Equal(1, rejection.Value);
        Assert.Equal("/", rejection.Tags["production_serving.location"]);
        Assert.Equal(3, host.AppInvocations);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Id.Id == 1130 && r.Level == Microsoft.Extensions.Logging.LogLevel.Debug);
    }

    [Fact]
    public async Task RefusedRequest_IsRecordedAsRateLimited()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(App("/", "\"Rate\": \"1r/m\"")));
        using var duration = new MetricCollector<double>(host.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "ProductionServing", "production_serving.request.duration");

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/a"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/a"));

        await duration.WaitForMeasurementsAsync(2, TestTimeouts.Wait);
        var refused = Assert.Single(duration.GetMeasurementSnapshot(), m => Equals(m.Tags["http.response.status_code"], 429));
        Assert.Equal("rate_limited", refused.Tags["error.type"]);
    }

    [Fact]
    public async Task DifferentKeys_AreLimitedSeparately_AndAnAbsentKeyIsNotLimited()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(App("/", "\"Rate\": \"1r/m\", \"Key\": \"$http_x_api_key\"")));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/", "alice"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/", "alice"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/", "bob"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/", "bob"));

        // limit_req2.t "no key": a request whose key is empty is not limited.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/"));
        }
    }

    [Fact]
    public async Task KeyWithCaptures_LimitsEachCapturedValue()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(App("~ ^/users/(\\w+)/", "\"Rate\": \"1r/m\", \"Key\": \"user-$1\"")));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/users/alice/a"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/users/alice/b"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/users/bob/a"));
    }

    [Fact]
    public async Task Delay_QueuesTheBurst_RefusesBeyondIt_AndAClientThatLeavesGivesItsPlaceBack()
    {
        await using var host = await ServingHost.StartAsync(ServingJson.Config(App("/", "\"Rate\": \"1r/m\", \"Burst\": 1, \"Delay\": true")));
        using var rejections = new MetricCollector<long>(host.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            "ProductionServing", "production_serving.rate_limit.rejections");
        var limiter = Limiter(host, 0);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/"));

        // The second waits for its turn (a minute away); the third finds the queue full.
        using var leaves = new CancellationTokenSource();
        var waiting = GetAsync(host, "/", cancel: leaves.Token);
        await Poll.UntilAsync(() => limiter.Statistics(Loopback)?.CurrentQueuedCount == 1000, "the second request waits");
        using (var refused = await GetAsync(host, "/"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        }

        // The client that waits goes away: its place is free, no refusal is counted for it, the app never sees it.
        await leaves.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await Poll.UntilAsync(() => limiter.Statistics(Loopback)?.CurrentQueuedCount == 0, "the place is given back");
        using var again = new CancellationTokenSource();
        var queuedAgain = GetAsync(host, "/", cancel: again.Token);
        await Poll.UntilAsync(() => limiter.Statistics(Loopback)?.CurrentQueuedCount == 1000, "a new request takes the place");
        await again.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queuedAgain);

        Assert.Equal(1, Assert.Single(rejections.GetMeasurementSnapshot()).Value);
        Assert.Equal(1, host.AppInvocations);
    }

    [Fact]
    public async Task Delay_ServesTheQueuedRequestsLater_InOrder_AtTheRate()
    {
        // Four a second: a queued request leaves every 250 ms.
        await using var host = await ServingHost.StartAsync(ServingJson.Config(App("/", "\"Rate\": \"4r/s\", \"Burst\": 3, \"Delay\": true")));
        var limiter = Limiter(host, 0);
        var clock = Stopwatch.StartNew();

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/0"));
        var done = new List<int>();
        var queued = new List<Task>();
        for (var i = 1; i <= 3; i++)
        {
            var n = i;
            queued.Add(GetAsync(host, "/" + n).ContinueWith(t =>
            {
                Assert.Equal(HttpStatusCode.OK, t.Result.StatusCode);
                lock (done)
                {
                    done.Add(n);
                }
            }, TaskScheduler.Default));

            // Each joins the queue (or is through it) before the next is sent, so their order is the order they came in.
            await Poll.UntilAsync(() => (limiter.Statistics(Loopback)?.CurrentQueuedCount ?? 0) / 1000 + Served(done) >= n,
                "request " + n + " is queued or served");
        }

        await Task.WhenAll(queued).WaitAsync(TestTimeouts.Wait);
        Assert.Equal([1, 2, 3], done);

        // Three more requests at four a second cannot all be through in less than 500 ms (the first of them may
        // find a quarter of a token already earned).
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(500), $"served after {clock.Elapsed}");
        Assert.Equal(4, host.AppInvocations);
    }

    [Fact]
    public async Task Delay_ReleasesTheQueueAtTheRate_AboveTenASecond()
    {
        // 500 a second: the 100 queued requests leave one per 2 ms, about 200 ms in all, as nginx delays each by
        // excess / rate. A bucket of one request releases one waiting request per refill, so refilled only by the
        // location's 100 ms sweep they would leave ten a second: 10 s. The bound sits far from both.
        await using var host = await ServingHost.StartAsync(ServingJson.Config(App("/", "\"Rate\": \"500r/s\", \"Burst\": 100, \"Delay\": true")));
        var clock = Stopwatch.StartNew();
        var requests = new Task<HttpStatusCode>[101];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = StatusAsync(host, "/" + i);
        }

        var statuses = await Task.WhenAll(requests).WaitAsync(TestTimeouts.Wait);
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"100 delayed requests at 500r/s took {clock.Elapsed}");
        Assert.Equal(101, host.AppInvocations);
    }

    private static int Served(List<int> done)
    {
        lock (done)
        {
            return done.Count;
        }
    }

    [Fact]
    public async Task Reload_WithTheSameRateLimit_KeepsTheCount_AndAChangedOneStartsAfresh()
    {
        var locations = App("/", "\"Rate\": \"1r/m\"") + ", " + App("/other/", "\"Rate\": \"1r/m\"");
        await using var host = await ServingHost.StartAsync(ServingJson.Config(locations));
        var before = Limiter(host, 0);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/"));

        // Another location's limit changes: this one's state stays.
        host.Reload(("ProductionServing:Locations:1:RateLimit:Burst", "5"));
        await Poll.UntilAsync(() => Limiter(host, 1).Settings.Burst == 5, "the reload is in force");
        Assert.Same(before, Limiter(host, 0));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/"));

        // Its own limit changes: a new bucket, full.
        host.Reload(("ProductionServing:Locations:0:RateLimit:Burst", "1"));
        await Poll.UntilAsync(() => Limiter(host, 0).Settings.Burst == 1, "the reload is in force");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/"));
        Assert.Equal(0, before.TrackedKeys);
    }

    [Fact]
    public async Task InternalRedirect_IsCountedOnce_ByTheFirstLocationWithARateLimit()
    {
        using var site = new StaticSite();
        var root = ServingJson.Escape(site.Root);
        var locations = $$"""
            { "Match": "/counted/", "Static": { "Root": "{{root}}", "TryFiles": [ "$uri", "/app/x" ] }, "RateLimit": { "Rate": "1r/m", "Burst": 1 } },
            { "Match": "/free/", "Static": { "Root": "{{root}}", "TryFiles": [ "$uri", "/app/y" ] } },
            {{App("/app/", "\"Rate\": \"1r/m\"")}}
            """;
        await using var host = await ServingHost.StartAsync(ServingJson.Config(locations));

        // Counted by /counted/ (burst 1), not again by /app/ (burst 0), which would refuse the second.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/counted/missing"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/counted/missing"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/counted/missing"));

        // /free/ has no RateLimit: /app/ counts its redirects, and has room for one.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/free/missing"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/free/missing"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(host, "/app/z"));
    }

    [Fact]
    public async Task ManyKeys_AreDroppedOnceIdle_SoMemoryStaysBounded()
    {
        // A thousand a second: each key's bucket is full again a millisecond after its request, and a bucket that
        // has stood full for 10 s (RequestRateLimit.IdleLimit) is dropped.
        await using var host = await ServingHost.StartAsync(ServingJson.Config(App("/", "\"Rate\": \"1000r/s\", \"Key\": \"$http_x_api_key\"")));
        var limiter = Limiter(host, 0);
        const int keys = 10_000;
        var next = -1;
        var senders = new Task[8];
        for (var s = 0; s < senders.Length; s++)
        {
            senders[s] = Task.Run(async () =>
            {
                for (var i = Interlocked.Increment(ref next); i < keys; i = Interlocked.Increment(ref next))
                {
                    Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/", "key-" + i));
                }
            });
        }

        await Task.WhenAll(senders).WaitAsync(TestTimeouts.Long);
        Assert.InRange(limiter.TrackedKeys, 1, keys);

        await Poll.UntilAsync(() => Task.FromResult(limiter.TrackedKeys == 0), "the idle keys are dropped", TestTimeouts.Long);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(host, "/", "key-0"));
        Assert.Equal(1, limiter.TrackedKeys);
    }

    [Fact]
    public async Task KeysBeyondTheCap_ShareOneBucket_WhileTheTrackedOnesKeepTheirOwn()
    {
        // nginx's zone size: at most so many keys have a bucket. Keys beyond it share one overflow bucket until
        // idle ones are dropped (a client that makes up keys is limited as a whole); the keys tracked keep theirs.
        Assert.True(VariableTemplate.TryParse("$http_x_api_key", 0, out var key, out _));
        using var limiter = new RequestRateLimit(RateLimitSettings.From("/", new RateLimitOptions { Rate = "1r/m" }), key, maxKeys: 3);

        for (var i = 0; i < 3; i++)
        {
            Assert.True(await AcquiredAsync(limiter, "key-" + i));
        }

        Assert.False(await AcquiredAsync(limiter, "key-0"));
        Assert.True(await AcquiredAsync(limiter, "key-3"));
        Assert.False(await AcquiredAsync(limiter, "key-3"));
        Assert.False(await AcquiredAsync(limiter, "key-4"));
        Assert.Equal(3, limiter.TrackedKeys);
    }

    private static async Task<bool> AcquiredAsync(RequestRateLimit limiter, string apiKey)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Headers["X-Api-Key"] = apiKey;
        using var lease = await limiter.AcquireAsync(context, new VariableScope(context, "/", captures: null));
        return lease.IsAcquired;
    }

    [Theory]
    [InlineData("\"Rate\": \"10r/h\"", "Locations[0].RateLimit.Rate: '10r/h' is not a rate of 1 to 10000000 requests per second or minute; write 10r/s or 600r/m.")]
    [InlineData("\"Rate\": \"0r/s\"", "Locations[0].RateLimit.Rate: '0r/s' is not a rate of 1 to 10000000 requests per second or minute; write 10r/s or 600r/m.")]
    [InlineData("\"Rate\": \"10 r/s\"", "Locations[0].RateLimit.Rate: '10 r/s' is not a rate of 1 to 10000000 requests per second or minute; write 10r/s or 600r/m.")]
    [InlineData("\"Burst\": 5", "Locations[0].RateLimit.Rate: is required; write 10r/s or 600r/m.")]
    [InlineData("\"Rate\": \"10r/s\", \"Burst\": -1", "Locations[0].RateLimit.Burst: must be from 0 to 1000000 requests admitted beyond the rate (got -1).")]
    [InlineData("\"Rate\": \"10r/s\", \"Key\": \"\"", "Locations[0].RateLimit.Key: is empty, which would limit no request; leave it unset for $remote_addr, or write a template such as $http_x_api_key.")]
    [InlineData("\"Rate\": \"10r/s\", \"Key\": \"$binary_remote_addr\"", "Locations[0].RateLimit.Key: $binary_remote_addr is not a variable; use $scheme, $host, $request_uri, $uri, $args, $request_method, $remote_addr, $request_id, $http_NAME, $cookie_NAME or $1 to $9.")]
    [InlineData("\"Rate\": \"10r/s\", \"Key\": \"$1\"", "Locations[0].RateLimit.Key: $1 is a capture, but there is no regex whose groups it could name (only a regex location has captures).")]
    public void InvalidRateLimit_IsRefusedNamingTheKey(string rateLimit, string message)
    {
        Assert.Equal([message], TestConfig.Failures(ServingJson.Config(App("/", rateLimit))));
    }

    [Theory]
    [InlineData("10r/s", 10, false)]
    [InlineData("600r/m", 600, true)]
    [InlineData("10000000r/s", 10_000_000, false)]
    public void Rate_Parses(string rate, int requests, bool perMinute)
    {
        Assert.True(RateLimitSettings.TryParseRate(rate, out var parsed, out var minute));
        Assert.Equal((requests, perMinute), (parsed, minute));
    }
}
