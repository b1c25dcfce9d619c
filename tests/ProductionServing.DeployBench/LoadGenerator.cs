using System.Diagnostics;
using System.Net;

namespace ProductionServing.DeployBench;

/// <summary>
/// The load generator: <see cref="Connections"/> keep-alive connections, each one request at a time.
/// Closed loop (wrk's model): a connection sends its next request as soon as the last one is answered.
/// Open loop (wrk2's model): each connection sends at <c>rate / connections</c> per second on a fixed
/// schedule; a request that could not be sent on time (its connection was still waiting) is sent as
/// soon as possible and its latency still counts from its intended time, so a stalled server is not
/// flattered by the generator waiting with it (coordinated omission).
/// </summary>
internal sealed class LoadGenerator(IPEndPoint endpoint, Workload workload, int connections)
{
    public int Connections => connections;

    /// <summary>
    /// Runs closed-loop load for <paramref name="seconds"/> from <paramref name="zero"/> (a
    /// <see cref="Stopwatch"/> timestamp, which may be in the past: a deployment's start). Connections
    /// are retried until the server listens, so started right after a deployment this measures its
    /// first seconds; <paramref name="onSecond"/> is called about once a second with the elapsed seconds.
    /// </summary>
    public async Task<LoadResult> RunClosedAsync(long zero, double seconds, Action<int>? onSecond = null)
    {
        var end = zero + (long)(seconds * Stopwatch.Frequency);
        var perSecond = new long[(int)Math.Ceiling(seconds)];
        var tasks = Enumerable.Range(0, connections).Select(c => Task.Run(() => ClosedConnectionAsync(c, zero, end, perSecond))).ToArray();
        using var ticker = ReportSeconds(zero, end, onSecond);
        var results = await Task.WhenAll(tasks);
        return Merge(results, perSecond, seconds);
    }

    /// <summary>Opens the connections first, then runs open-loop load at <paramref name="rate"/> requests per second for <paramref name="seconds"/>.</summary>
    public async Task<LoadResult> RunOpenAsync(double rate, double seconds)
    {
        var opened = new LoadConnection?[connections];
        for (var c = 0; c < connections; c++)
        {
            opened[c] = await LoadConnection.TryConnectAsync(endpoint, CancellationToken.None)
                ?? throw new IOException($"cannot connect to {endpoint}");
        }

        var zero = Stopwatch.GetTimestamp();
        var end = zero + (long)(seconds * Stopwatch.Frequency);
        var perSecond = new long[(int)Math.Ceiling(seconds)];
        var tasks = Enumerable.Range(0, connections).Select(c => Task.Run(() => OpenConnectionAsync(c, opened[c]!, rate, zero, end, perSecond))).ToArray();
        var results = await Task.WhenAll(tasks);
        return Merge(results, perSecond, seconds);
    }

    private async Task<(long Requests, long Errors, Histogram Latency, Histogram Service)> ClosedConnectionAsync(int index, long zero, long end, long[] perSecond)
    {
        var latency = new Histogram();
        long requests = 0, errors = 0;
        long next = index * 7919L; // a prime stride: connections start spread over the workload
        LoadConnection? connection = null;
        using var stop = new CancellationTokenSource(TimeSpan.FromTicks((long)((end - Stopwatch.GetTimestamp()) * (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)) + TimeSpan.FromSeconds(1));
        try
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                connection ??= await ConnectAsync(end, stop.Token);
                if (connection is null)
                {
                    break;
                }

                var sent = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    status = await connection.SendAsync(workload.Request(next++), stop.Token);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException)
                {
                    connection.Dispose();
                    connection = null;
                    status = 0;
                }

                var done = Stopwatch.GetTimestamp();
                if (done >= end || done < zero)
                {
                    continue;
                }

                if (status is >= 200 and < 300)
                {
                    requests++;
                    latency.Record(Microseconds(done - sent));
                    Interlocked.Increment(ref perSecond[(int)((done - zero) / Stopwatch.Frequency)]);
                }
                else
                {
                    errors++;
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }

        return (requests, errors, latency, new Histogram());
    }

    private async Task<(long Requests, long Errors, Histogram Latency, Histogram Service)> OpenConnectionAsync(
        int index, LoadConnection connection, double rate, long zero, long end, long[] perSecond)
    {
        var latency = new Histogram();
        var service = new Histogram();
        long requests = 0, errors = 0;
        var interval = connections * Stopwatch.Frequency / rate; // ticks between this connection's requests
        var intended = zero + (index * interval / connections); // connections staggered over one interval
        long next = index * 7919L;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(((end - zero) / (double)Stopwatch.Frequency) + 5));
        try
        {
            while (intended < end)
            {
                var wait = (long)intended - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency), stop.Token);
                }

                var sent = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    status = await connection.SendAsync(workload.Request(next++), stop.Token);
                }
                catch (IOException)
                {
                    connection.Dispose();
                    connection = await LoadConnection.TryConnectAsync(endpoint, stop.Token) ?? throw new IOException($"cannot reconnect to {endpoint}");
                    status = 0;
                }

                var done = Stopwatch.GetTimestamp();
                if (status is >= 200 and < 300)
                {
                    requests++;
                    // From the intended time, or from the actual send when the timer woke early:
                    // a request is never credited for time before it was sent.
                    latency.Record(Microseconds(done - Math.Min((long)intended, sent)));
                    service.Record(Microseconds(done - sent));
                    if (done < end)
                    {
                        Interlocked.Increment(ref perSecond[(int)((done - zero) / Stopwatch.Frequency)]);
                    }
                }
                else
                {
                    errors++;
                }

                intended += interval;
            }
        }
        catch (OperationCanceledException)
        {
            // The run's hard stop: the server stopped answering; what was recorded stands.
        }
        finally
        {
            connection.Dispose();
        }

        return (requests, errors, latency, service);
    }

    private async Task<LoadConnection?> ConnectAsync(long end, CancellationToken cancellationToken)
    {
        // A deployment that is still starting refuses connections: try again every 10 ms until the
        // window ends (those seconds then count zero requests, which is the point of a warm-up curve).
        while (Stopwatch.GetTimestamp() < end)
        {
            if (await LoadConnection.TryConnectAsync(endpoint, cancellationToken) is { } connection)
            {
                return connection;
            }

            await Task.Delay(10, cancellationToken);
        }

        return null;
    }

    private static Timer? ReportSeconds(long zero, long end, Action<int>? onSecond)
    {
        if (onSecond is null)
        {
            return null;
        }

        return new Timer(_ =>
        {
            var now = Stopwatch.GetTimestamp();
            if (now < end)
            {
                onSecond((int)((now - zero) / Stopwatch.Frequency));
            }
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private static LoadResult Merge((long Requests, long Errors, Histogram Latency, Histogram Service)[] results, long[] perSecond, double seconds)
    {
        var latency = new Histogram();
        var service = new Histogram();
        long requests = 0, errors = 0;
        foreach (var result in results)
        {
            requests += result.Requests;
            errors += result.Errors;
            latency.Add(result.Latency);
            service.Add(result.Service);
        }

        return new LoadResult(requests, errors, latency, service, perSecond, seconds);
    }

    private static long Microseconds(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;
}
