using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>Admission under stress: many concurrent arrivals and random cancellations never lose or double-count a slot.</summary>
public sealed class AdmissionStressTests
{
    [Theory]
    [InlineData(false, "00:00:10")]
    [InlineData(true, "00:00:10")]
    [InlineData(false, "00:00:00.002")] // queue timeouts race the releases and the cancellations too
    [InlineData(true, "00:00:00.002")]
    public async Task ConcurrentArrivalsAndCancellations_EndWithEveryCounterBackAtZero(bool dedicated, string queueTimeout)
    {
        var pool = dedicated
            ? $$""" "p": { "DedicatedThreads": true, "Workers": 4, "QueueLimit": 40, "QueueTimeout": "{{queueTimeout}}" } """
            : $$""" "p": { "MaxConcurrency": 4, "QueueLimit": 40, "QueueTimeout": "{{queueTimeout}}" } """;
        await using var app = await PoolTestApp.StartAsync(PoolTestApp.Config(pool));
        var random = new Random(1234);
        var requests = new List<Task<HttpStatusCode?>>();
        for (var i = 0; i < 400; i++)
        {
            // A third of the clients give up after a random moment: queued, running, or already answered.
            var cancelAfter = random.Next(3) == 0 ? TimeSpan.FromMilliseconds(random.Next(0, 30)) : (TimeSpan?)null;
            requests.Add(SendAsync(app, cancelAfter));
        }

        var outcomes = await Task.WhenAll(requests);
        var ok = outcomes.Count(o => o == HttpStatusCode.OK);
        var rejected = outcomes.Count(o => o == HttpStatusCode.ServiceUnavailable);
        var canceled = outcomes.Count(o => o is null);
        Assert.Equal(400, ok + rejected + canceled);
        Assert.True(ok > 0, "some requests ran");

        var workers = app.Pool("p");
        await Poll.UntilAsync(() => workers.Running == 0 && workers.QueueLength == 0, "the pool is idle again");
        Assert.True(app.MaxRunning <= 4, $"{app.MaxRunning} ran at once");
        Assert.InRange(app.WorkStarted, ok, ok + canceled);

        // Exactly the configured capacity is left: four run, and a fifth has to wait.
        var gates = Enumerable.Range(0, 4).Select(i => app.Client.GetAsync($"/gate/{i}")).ToList();
        await Poll.UntilAsync(() => workers.Running == 4, "four run");
        var fifth = app.Client.GetAsync("/gate/4");
        if (queueTimeout == "00:00:10")
        {
            await Poll.UntilAsync(() => workers.QueueLength == 1, "the fifth waits");
            gates.Add(fifth);
        }
        else
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await fifth).StatusCode);
        }

        for (var i = 0; i < 5; i++)
        {
            app.Open(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.All(await Task.WhenAll(gates), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    private static async Task<HttpStatusCode?> SendAsync(PoolTestApp app, TimeSpan? cancelAfter)
    {
        using var cancel = new CancellationTokenSource(cancelAfter ?? TestTimeouts.Wait);
        try
        {
            using var response = await app.Client.GetAsync("/work", cancel.Token);
            await response.Content.ReadAsStringAsync(cancel.Token);
            return response.StatusCode;
        }
        catch (OperationCanceledException) when (cancelAfter is not null)
        {
            return null;
        }
    }
}
