using ProductionServing.ServiceDiscovery;

namespace ProductionServing.Tests.ServiceDiscovery;

/// <summary>One name's answers: only a real change fires the token, and the new answer is in place when it fires.</summary>
public sealed class DiscoveredServiceTests
{
    [Fact]
    public void TheSameServersAgain_FireNothing_AndAFailureKeepsThem()
    {
        using var service = new DiscoveredService("http://catalog", static _ => Task.CompletedTask);
        service.Publish([new Uri("http://10.0.0.1:8080")]);
        var first = service.Current;

        service.Publish([new Uri("http://10.0.0.1:8080")]);
        service.Publish(null);

        Assert.Same(first, service.Current);
        Assert.False(first.ChangeToken.HasChanged);
        Assert.True(service.FirstResolution.IsCompletedSuccessfully);
    }

    [Fact]
    public void AChange_FiresTheLastToken_WithTheNewAnswerInPlace()
    {
        using var service = new DiscoveredService("http://catalog", static _ => Task.CompletedTask);
        var before = service.Current;
        IReadOnlyList<Uri>? seen = null;
        using var registration = before.ChangeToken.RegisterChangeCallback(_ => seen = service.Current.Addresses, null);

        service.Publish([new Uri("http://10.0.0.1:8080"), new Uri("http://10.0.0.2:8080")]);

        Assert.Empty(before.Addresses);
        Assert.True(before.ChangeToken.HasChanged);
        Assert.Equal(2, seen?.Count);
        Assert.False(service.Current.ChangeToken.HasChanged);
    }
}
