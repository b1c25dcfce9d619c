using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Faults;

/// <summary>
/// A host with one location of each kind, for the faults the client side causes: <c>/</c> serves
/// <see cref="Site"/>, <c>/proxy/</c> passes to <see cref="Upstream"/>, and <c>/app/</c> runs the app
/// in the pool <c>p</c> on two dedicated threads. The upstream answers <c>/proxy/large</c> with
/// <see cref="Large"/> and <c>/proxy/endless</c> with a body that never ends; it and the app read the
/// body of <c>…/upload</c> and signal when it arrived and when its client went away.
/// </summary>
internal sealed class FaultHosts : IAsyncDisposable
{
    /// <summary>A body far larger than any buffer on the way (socket buffers, Kestrel's 64 KiB response buffer, a 64 KiB read).</summary>
    public const int LargeSize = 1024 * 1024;

    private TaskCompletionSource _started = Signal();
    private TaskCompletionSource _clientGone = Signal();

    private FaultHosts(StaticSite site, UpstreamHost upstream)
    {
        Site = site;
        Upstream = upstream;
        Large = site.RandomBytes("big.bin", LargeSize, seed: 15);
    }

    public StaticSite Site { get; }

    public UpstreamHost Upstream { get; }

    public ServingHost Host { get; private set; } = null!;

    /// <summary>The bytes of <c>/big.bin</c> and of <c>/proxy/large</c>.</summary>
    public byte[] Large { get; }

    /// <summary>Completes when the upstream or the app read the first piece of the current upload, or the upstream wrote the first piece of an endless body.</summary>
    public Task Started => Volatile.Read(ref _started).Task;

    /// <summary>Completes when reading the current upload or writing the endless body failed because the client went away.</summary>
    public Task ClientGone => Volatile.Read(ref _clientGone).Task;

    /// <summary>The configuration: the three locations, the group <c>backend</c> of the upstream, and the pool <c>p</c>.</summary>
    private string Config() => ServingJson.Config(
        ServingJson.StaticRoot(Site.Root) + ", "
        + ServingJson.ProxyLocation("/proxy/", "http://backend") + ", "
        + """{ "Match": "/app/", "App": { "Pool": "p" } }""",
        upstreams: ServingJson.Upstream("backend", "", Upstream.Address),
        pools: """ "p": { "DedicatedThreads": true, "Workers": 2 } """);

    public static async Task<FaultHosts> StartAsync()
    {
        var site = new StaticSite();
        FaultHosts? hosts = null;
        var upstream = await UpstreamHost.StartAsync(context => hosts!.UpstreamAsync(context));
        hosts = new FaultHosts(site, upstream);
        hosts.Host = await hosts.StartHostAsync();
        return hosts;
    }

    /// <summary>
    /// Starts another serving host with the same locations (the first one is <see cref="Host"/>), with
    /// <paramref name="services"/> added to its services. Its
    /// connections send through a 32 KiB socket buffer: Linux would grow it up to 4 MiB on loopback
    /// (tcp_wmem, tcp(7)), which would take a 1 MiB body whole, so a slow client would never hold the
    /// server up and a file could not change while most of it is still unsent. Accepted sockets inherit
    /// the listening socket's buffer size.
    /// </summary>
    public Task<ServingHost> StartHostAsync(Action<IServiceCollection>? services = null) =>
        ServingHost.StartAsync(Config(),
            afterServing: app => app.Use((context, next) => context.Request.Path == "/app/upload" ? ReadUploadAsync(context) : next(context)),
            services: collection =>
            {
                collection.Configure<SocketTransportOptions>(options => options.CreateBoundListenSocket = static endpoint =>
                {
                    var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                    socket.SendBufferSize = 32 * 1024;
                    return socket;
                });
                services?.Invoke(collection);
            });

    /// <summary>Starts watching a new upload or endless download.</summary>
    public void Arm()
    {
        Volatile.Write(ref _started, Signal());
        Volatile.Write(ref _clientGone, Signal());
    }

    /// <summary>Checks that each location of <paramref name="host"/> (<see cref="Host"/> when not given) serves a normal request.</summary>
    public async Task AssertServesAsync(ServingHost? host = null)
    {
        var client = (host ?? Host).Client;
        await FaultRun.AssertServesAsync(client, "/hello.txt", "hello world");
        await FaultRun.AssertServesAsync(client, "/proxy/ok", "upstream ok");
        await FaultRun.AssertServesAsync(client, "/app/ok", "2|/app/|App|p|/app/ok");
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Upstream.DisposeAsync();
        Site.Dispose();
    }

    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task UpstreamAsync(HttpContext context)
    {
        switch (context.Request.Path.Value)
        {
            case "/proxy/large":
                context.Response.ContentLength = Large.Length;
                await context.Response.Body.WriteAsync(Large, context.RequestAborted);
                break;
            case "/proxy/endless":
                var started = Volatile.Read(ref _started);
                var clientGone = Volatile.Read(ref _clientGone);
                var block = new byte[64 * 1024];
                try
                {
                    while (true)
                    {
                        await context.Response.Body.WriteAsync(block, context.RequestAborted);
                        started.TrySetResult();
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException)
                {
                    clientGone.TrySetResult(); // the proxy closed the connection when its client went away
                }

                break;
            case "/proxy/upload":
                await ReadUploadAsync(context);
                break;
            default:
                await context.Response.WriteAsync("upstream ok");
                break;
        }
    }

    /// <summary>
    /// Reads the request body to its end and answers its length; signals when the first piece arrived and
    /// when the client went away instead. The app reads with blocking calls, as sync code on a dedicated
    /// thread does.
    /// </summary>
    private async Task ReadUploadAsync(HttpContext context)
    {
        var arrived = Volatile.Read(ref _started);
        var aborted = Volatile.Read(ref _clientGone);
        var blocking = context.Request.Path.StartsWithSegments("/app");
        if (blocking)
        {
            context.Features.GetRequiredFeature<IHttpBodyControlFeature>().AllowSynchronousIO = true;
        }

        var buffer = new byte[16 * 1024];
        long length = 0;
        try
        {
            int read;
            while ((read = blocking ? context.Request.Body.Read(buffer) : await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) != 0)
            {
                length += read;
                arrived.TrySetResult();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            aborted.TrySetResult();
            return;
        }

        await context.Response.WriteAsync(length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
