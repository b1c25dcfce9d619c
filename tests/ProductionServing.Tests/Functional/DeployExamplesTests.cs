using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Functional;

/// <summary>
/// The deploy examples (samples/QuickStart/Dockerfile, deploy/kubernetes/deployment.yaml) agree with the sample
/// they run: the image's ProductionServing settings bind, the probes' paths answer 200, and the pod's grace period
/// covers the drain delay and the host's shutdown timeout it sets. No image can be built here: this and the
/// manifests' schema check (deploy/kubernetes/validate) are what can be checked.
/// </summary>
public sealed partial class DeployExamplesTests
{
    [Fact]
    public async Task DockerfileSettings_BindInTheSample_AndItsProbesAnswer()
    {
        var environment = DockerfileEnvironment();
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            if (name.StartsWith("ProductionServing__", StringComparison.Ordinal))
            {
                settings[name.Replace("__", ":", StringComparison.Ordinal)] = value;
            }
        }

        Assert.Contains("ProductionServing:Shutdown:DrainDelay", settings.Keys);
        using var sample = new SampleHost<Program>(settings);
        using var client = sample.CreateRawClient();
        foreach (var path in ProbePaths())
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }

        var options = sample.Services.GetRequiredService<IOptions<ProductionServingOptions>>().Value;
        Assert.Equal(TimeSpan.Parse(environment["ProductionServing__Shutdown__DrainDelay"], CultureInfo.InvariantCulture), options.Shutdown.DrainDelay);
    }

    [Fact]
    public void Deployment_GracePeriod_CoversTheDrainDelayAndTheShutdownTimeout_TheImageSets()
    {
        var deployment = File.ReadAllText(Path.Combine(Repository.Root, "deploy", "kubernetes", "deployment.yaml"));
        var image = DockerfileEnvironment();
        var drain = TimeSpan.Parse(EnvValue(deployment, "ProductionServing__Shutdown__DrainDelay"), CultureInfo.InvariantCulture);
        var shutdown = TimeSpan.FromSeconds(int.Parse(EnvValue(deployment, "DOTNET_SHUTDOWNTIMEOUTSECONDS"), CultureInfo.InvariantCulture));
        var grace = TimeSpan.FromSeconds(int.Parse(GracePeriod().Match(deployment).Groups[1].Value, CultureInfo.InvariantCulture));

        Assert.Equal(image["ProductionServing__Shutdown__DrainDelay"], EnvValue(deployment, "ProductionServing__Shutdown__DrainDelay"));
        Assert.Equal(image["DOTNET_SHUTDOWNTIMEOUTSECONDS"], EnvValue(deployment, "DOTNET_SHUTDOWNTIMEOUTSECONDS"));
        Assert.True(grace > drain + shutdown, $"terminationGracePeriodSeconds {grace} is not above DrainDelay {drain} + the shutdown timeout {shutdown}");
    }

    /// <summary>The paths of the Deployment's probes (startup, readiness, liveness).</summary>
    private static string[] ProbePaths()
    {
        var deployment = File.ReadAllText(Path.Combine(Repository.Root, "deploy", "kubernetes", "deployment.yaml"));
        var paths = ProbePath().Matches(deployment).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToArray();
        Assert.Contains("/ready", paths);
        Assert.Contains("/healthz", paths);
        return paths;
    }

    /// <summary>The Dockerfile's <c>ENV</c> settings (one instruction, continued over lines with <c>\</c>).</summary>
    private static Dictionary<string, string> DockerfileEnvironment()
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, "samples", "QuickStart", "Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("ENV ", StringComparison.Ordinal))
            {
                foreach (Match setting in EnvSetting().Matches(line[4..]))
                {
                    environment[setting.Groups[1].Value] = setting.Groups[2].Value.Trim('"');
                }
            }
        }

        return environment;
    }

    private static string EnvValue(string deployment, string name)
    {
        var match = Regex.Match(deployment, @"- name: " + Regex.Escape(name) + @"\s*\n\s*value: ""?([^""\n]*)""?");
        Assert.True(match.Success, $"deployment.yaml sets no {name}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=(""[^""]*""|\S+)")]
    private static partial Regex EnvSetting();

    [GeneratedRegex(@"path: (/\S*)")]
    private static partial Regex ProbePath();

    [GeneratedRegex(@"terminationGracePeriodSeconds: (\d+)")]
    private static partial Regex GracePeriod();
}
