using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProductionServing.Pools;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Pools;

/// <summary>The answer given for a stuck request, under a server stricter than Kestrel about when headers may change.</summary>
public sealed class RequestDeadlineTests
{
    // Kestrel lets headers change until the first flush, but a server may start the response (and freeze
    // its headers) at the first byte written, as IHttpResponseFeature allows: the given-up answer must set
    // Connection: close before it writes its body.
    [Fact]
    public async Task GivenUpRequest_UnderAServerThatStartsAtTheFirstWrite_Gets504WithConnectionClose()
    {
        var time = new FakeTimeProvider();
        var pool = new WorkerPool("p", new PoolOptions { RequestTimeout = TimeSpan.FromSeconds(1) }, time, NullLogger.Instance, TestConfig.Metrics);
        var response = new StartsAtFirstWrite();
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpResponseFeature>(response);
        context.Features.Set<IHttpResponseBodyFeature>(response);
        context.Request.Protocol = "HTTP/1.1";
        using var blocker = new ManualResetEventSlim();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var request = Task.Run(() => pool.InvokeAsync(context, _ =>
        {
            started.SetResult();
            blocker.Wait(TestTimeouts.Wait);
            return Task.CompletedTask;
        }));
        await started.Task.WaitAsync(TestTimeouts.Wait);
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(RequestDeadline.AbandonGrace);
        blocker.Set();
        await request.WaitAsync(TestTimeouts.Wait);

        Assert.Equal(StatusCodes.Status504GatewayTimeout, response.StatusCode);
        Assert.Equal("close", response.Headers.Connection.ToString());
        Assert.Equal("504 Gateway Timeout\n", System.Text.Encoding.ASCII.GetString(response.Written.WrittenSpan));
    }

    /// <summary>A response that starts, and freezes its headers, when the first byte of its body is written.</summary>
    private sealed class StartsAtFirstWrite : PipeWriter, IHttpResponseFeature, IHttpResponseBodyFeature
    {
        private readonly HeaderDictionary _headers = new();

        public ArrayBufferWriter<byte> Written { get; } = new();

        public int StatusCode { get; set; } = StatusCodes.Status200OK;

        public string? ReasonPhrase { get; set; }

        public IHeaderDictionary Headers
        {
            get => _headers;
            set => throw new NotSupportedException();
        }

        public Stream Body
        {
            get => Stream;
            set => throw new NotSupportedException();
        }

        public bool HasStarted { get; private set; }

        public Stream Stream => AsStream();

        public PipeWriter Writer => this;

        public void OnStarting(Func<object, Task> callback, object state)
        {
        }

        public void OnCompleted(Func<object, Task> callback, object state)
        {
        }

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default)
        {
            Start();
            return Task.CompletedTask;
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task CompleteAsync() => StartAsync();

        public override void Advance(int bytes) => Written.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            Start();
            return Written.GetMemory(sizeHint);
        }

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            Start();
            return Written.GetSpan(sizeHint);
        }

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Start();
            return default;
        }

        private void Start()
        {
            HasStarted = true;
            _headers.IsReadOnly = true;
        }
    }
}
