using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// An upstream whose <c>/healthz</c> answers <see cref="HealthStatus"/>, or with <see cref="Stall"/>
/// nothing until the probe is canceled; every other path answers its name.
/// </summary>
internal sealed class HealthCheckedUpstream : IAsyncDisposable
{
    private readonly Channel<UpstreamRequest> _probes = Channel.CreateUnbounded<UpstreamRequest>();
    private int _healthStatus = 200;
    private int _probeCount;
    private volatile bool _stall;

    private HealthCheckedUpstream(string name) => Name = name;

    public string Name { get; }

    public UpstreamHost Host { get; private set; } = null!;

    public string Address => Host.Address;

    public int Port => Host.Port;

    /// <summary><c>127.0.0.1:PORT</c>, as logs name the server.</summary>
    public string Authority => $"127.0.0.1:{Port}";

    public int HealthStatus
    {
        get => Volatile.Read(ref _healthStatus);
        set => Volatile.Write(ref _healthStatus, value);
    }

    public bool Stall
    {
        get => _stall;
        set => _stall = value;
    }

    /// <summary>Completes when a stalled probe's connection is aborted by the prober.</summary>
    public TaskCompletionSource ProbeAborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Health requests received so far.</summary>
    public int ProbeCount => Volatile.Read(ref _probeCount);

    public static async Task<HealthCheckedUpstream> StartAsync(string name, int healthStatus = 200)
    {
        var backend = new HealthCheckedUpstream(name) { HealthStatus = healthStatus };
        backend.Host = await UpstreamHost.StartAsync(backend.HandleAsync);
        return backend;
    }

    /// <summary>The next health request to arrive (each is returned once).</summary>
    public async Task<UpstreamRequest> NextProbeAsync() =>
        await _probes.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Wait);

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Path != "/healthz")
        {
            await context.Response.WriteAsync(Name);
            return;
        }

        // Read the switches before signalling, so a test that flips them next affects the next probe only.
        var status = HealthStatus;
        var stall = Stall;
        Interlocked.Increment(ref _probeCount);
        _probes.Writer.TryWrite(UpstreamRequest.From(context));
        if (!stall)
        {
            context.Response.StatusCode = status;
            return;
        }

        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (context.RequestAborted.Register(() => aborted.TrySetResult()))
        {
            await aborted.Task.WaitAsync(TestTimeouts.Wait);
        }

        ProbeAborted.TrySetResult();
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
