using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Functional;

/// <summary>
/// The quick start twice, on Kestrel at 127.0.0.1 port 0. Its appsettings.json forwards <c>/proxied/</c> to
/// the upstream <c>self</c>, the sample itself at 127.0.0.1:5000; on port 0 a sample cannot name its own
/// port before it starts, so <see cref="Upstream"/> stands in for that address and <see cref="Sample"/>,
/// the one under test, has <c>self</c> pointing at it.
/// </summary>
public sealed class QuickStartServers : IDisposable
{
    public QuickStartServers()
    {
        Upstream = new SampleHost<Program>();
        Sample = new SampleHost<Program>(new Dictionary<string, string?>
        {
            ["ProductionServing:Upstreams:self:Servers:0:Address"] = Upstream.Address.GetLeftPart(UriPartial.Authority),
        });
    }

    /// <summary>The sample that answers <c>/proxied/</c> requests forwarded by <see cref="Sample"/>.</summary>
    public SampleHost<Program> Upstream { get; }

    /// <summary>The sample under test.</summary>
    public SampleHost<Program> Sample { get; }

    public void Dispose()
    {
        Sample.Dispose();
        Upstream.Dispose();
    }
}
