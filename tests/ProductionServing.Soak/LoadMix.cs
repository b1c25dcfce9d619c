using System.Diagnostics;
using System.Net;

namespace ProductionServing.Soak;

/// <summary>
/// The soak's load: static GETs, proxied GETs and POSTs, requests through the <c>default</c> pool,
/// an overload of the small pool (answered 503 mostly: asked for), and client aborts (a response
/// cancelled after its first 16 KiB: asked for) on a static file, a proxied one and a streamed app
/// response. Every request has <see cref="RequestTimeout"/>; the workers stop at the run's end, and
/// the requests then in flight are not counted.
/// </summary>
internal sealed class LoadMix : IDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private const int AbortAfter = 16 * 1024;
    private const int PostLength = 16 * 1024;

    private static readonly string[] AbortPaths = ["/static/1m.bin", "/up/1m.bin", "/app/stream"];
    private static readonly byte[] PostBody = new byte[PostLength];
    private static readonly string PostAnswer = $"{{\"received\":{PostLength}}}";

    private readonly HttpClient _client;
    private readonly HttpClient _abortClient;

    public LoadMix(Uri host)
    {
        _client = CreateClient(host, drain: true);
        // No draining: disposing a response not read to its end closes the connection, which the host
        // sees as the client going away mid-response (SocketsHttpHandler would otherwise read up to
        // 1 MiB more to keep the connection).
        _abortClient = CreateClient(host, drain: false);
        Kinds =
        [
            new("static", 4, TimeSpan.FromMilliseconds(5), "GET /static/1k.bin and /static/64k.bin in turn (Static, hot-file cache)",
                (n, buffer, ct) => GetAsync(_client, n % 2 == 0 ? "/static/1k.bin" : "/static/64k.bin", n % 2 == 0 ? 1024 : 64 * 1024, buffer, ct)),
            new("proxy-get", 4, TimeSpan.FromMilliseconds(5), "GET /up/json, forwarded to the upstream's 100-byte JSON",
                (_, buffer, ct) => GetAsync(_client, "/up/json", 100, buffer, ct)),
            new("proxy-post", 2, TimeSpan.FromMilliseconds(10), "POST /up/upload with 16 KiB, forwarded; the upstream answers the length it read",
                (_, _, ct) => PostAsync(ct)),
            new("pool", 4, TimeSpan.FromMilliseconds(5), "GET /app/work: SHA-256 over 4 KiB and a JSON answer, in the default pool",
                (n, buffer, ct) => GetAsync(_client, $"/app/work?n={n % 256}", -1, buffer, ct)),
            new("overload", 8, TimeSpan.FromMilliseconds(20), "GET /small/50: 50 ms of Thread.Sleep in a pool of 2 dedicated threads and 4 queue places; 503 expected",
                (_, buffer, ct) => OverloadAsync(buffer, ct)),
            new("abort", 2, TimeSpan.FromMilliseconds(50), "GET /static/1m.bin, /up/1m.bin and /app/stream in turn, cancelled after 16 KiB",
                (n, buffer, ct) => AbortAsync(AbortPaths[n % AbortPaths.Length], buffer, ct)),
        ];
    }

    public IReadOnlyList<LoadKind> Kinds { get; }

    /// <summary>Runs every kind's workers until <paramref name="stop"/> fires, counting into <paramref name="counters"/> (kind i is counter kind i).</summary>
    public Task RunAsync(Counters counters, CancellationToken stop) =>
        Task.WhenAll(Kinds.SelectMany((kind, k) => Enumerable.Range(0, kind.Workers).Select(w => Task.Run(() => WorkerAsync(counters, k, kind, w, stop)))));

    public void Dispose()
    {
        _client.Dispose();
        _abortClient.Dispose();
    }

    /// <summary>
    /// Sends one request under <see cref="RequestTimeout"/> and classifies how it ended. Used by the
    /// workers, the reloads and the sampler alike; null when <paramref name="stop"/> ended the run
    /// while it was in flight.
    /// </summary>
    public static async Task<(Outcome Outcome, string? Message)?> SendOnceAsync(
        Func<CancellationToken, Task<(Outcome Outcome, string? Message)>> send, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            return await send(timeout.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            return (Outcome.ErrorTimeout, $"no complete answer within {RequestTimeout.TotalSeconds:F0} s");
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError)
        {
            return (Outcome.ErrorConnect, ex.Message);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return (Outcome.ErrorOther, ex.GetType().Name + ": " + ex.Message + (ex.InnerException is { } inner ? " (" + inner.Message + ")" : ""));
        }
    }

    public static HttpClient CreateClient(Uri host, bool drain)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        if (!drain)
        {
            handler.MaxResponseDrainSize = 0;
        }

        return new HttpClient(handler) { BaseAddress = host, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Reads the rest of the body into <paramref name="buffer"/> (overwritten), returning its length.</summary>
    public static async Task<long> DrainAsync(HttpResponseMessage response, byte[] buffer, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        long length = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            length += read;
        }

        return length;
    }

    private static async Task WorkerAsync(Counters counters, int k, LoadKind kind, int worker, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        var interval = (long)(kind.Interval.TotalSeconds * Stopwatch.Frequency);
        // Workers of a kind start spread over one interval, not all at once.
        var next = Stopwatch.GetTimestamp() + (interval * worker / kind.Workers);
        for (long n = worker; !stop.IsCancellationRequested; n += kind.Workers)
        {
            var wait = next - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            var number = n;
            if (await SendOnceAsync(ct => kind.Send(number, buffer, ct), stop) is not { } result)
            {
                break;
            }

            counters.Add(k, result.Outcome, result.Message);
            // A late worker does not catch up in a burst: its next request waits a whole interval at most.
            next = Math.Max(next + interval, Stopwatch.GetTimestamp());
        }
    }

    private static async Task<(Outcome, string?)> GetAsync(HttpClient client, string path, long expectedLength, byte[] buffer, CancellationToken ct)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
        var length = await DrainAsync(response, buffer, ct);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (Outcome.ErrorStatus, $"GET {path}: {(int)response.StatusCode}");
        }

        return expectedLength < 0 || length == expectedLength
            ? (Outcome.Ok, null)
            : (Outcome.ErrorOther, $"GET {path}: {length} bytes, {expectedLength} expected");
    }

    private async Task<(Outcome, string?)> PostAsync(CancellationToken ct)
    {
        using var content = new ByteArrayContent(PostBody);
        using var response = await _client.PostAsync("/up/upload", content, ct);
        var answer = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (Outcome.ErrorStatus, $"POST /up/upload: {(int)response.StatusCode}");
        }

        return answer == PostAnswer ? (Outcome.Ok, null) : (Outcome.ErrorOther, $"POST /up/upload answered '{answer}'");
    }

    private async Task<(Outcome, string?)> OverloadAsync(byte[] buffer, CancellationToken ct)
    {
        using var response = await _client.GetAsync("/small/50", HttpCompletionOption.ResponseHeadersRead, ct);
        await DrainAsync(response, buffer, ct);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => (Outcome.Ok, null),
            // The pool's own 503 carries Retry-After (docs/pools.md); a 503 without it came from elsewhere.
            HttpStatusCode.ServiceUnavailable when response.Headers.RetryAfter is not null => (Outcome.Shed, null),
            _ => (Outcome.ErrorStatus, $"GET /small/50: {(int)response.StatusCode}"),
        };
    }

    private async Task<(Outcome, string?)> AbortAsync(string path, byte[] buffer, CancellationToken ct)
    {
        using var response = await _abortClient.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (Outcome.ErrorStatus, $"GET {path}: {(int)response.StatusCode}");
        }

        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var read = 0;
        while (read < AbortAfter)
        {
            var chunk = await body.ReadAsync(buffer.AsMemory(0, AbortAfter - read), ct);
            if (chunk == 0)
            {
                return (Outcome.ErrorOther, $"GET {path}: the body ended after {read} bytes");
            }

            read += chunk;
        }

        // Leaving here disposes the body unread: the connection is closed under the host's response.
        return (Outcome.Aborted, null);
    }
}
