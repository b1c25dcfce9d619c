using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using ProductionServing.Routing;
using ProductionServing.Static;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>Property tests: whatever the request path, the mapped file stays inside the root.</summary>
public sealed class FileLookupTests
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "ps-lookup-root");

    [Fact]
    public void TryMap_RandomRequestTargets_NeverLeaveTheRoot()
    {
        // Hidden names allowed, so "../x" is stopped by the root check itself, not by the hidden-file rule.
        var options = new StaticOptions { AllowHiddenFiles = true };
        var root = new FileLookup(Root, aliasPrefix: null, options.AllowHiddenFiles, options.Precompressed, options.DefaultContentType, new FileCacheBudget(), 0, compress: null, TimeProvider.System, NullLogger.Instance);
        var aliasWithoutSlash = new FileLookup(Root + "/pub/", aliasPrefix: "/files", options.AllowHiddenFiles, options.Precompressed, options.DefaultContentType, new FileCacheBudget(), 0, compress: null, TimeProvider.System, NullLogger.Instance);
        string[] pieces = ["/", "..", ".", "%2e", "%2E%2e", "%2f", "%5c", "\\", "a", "files", "files..", ".env", "%00", "%c0%ae", "//", "%25", "~"];
        var piece = Gen.Int[0, pieces.Length - 1].Select(i => pieces[i]);

        try
        {
            piece.Array[0, 12].Select(parts => "/" + string.Concat(parts)).Sample(target =>
            {
                if (!RequestPath.TryNormalize(target, out var path))
                {
                    return;
                }

                if (root.TryMap(path, out var physical))
                {
                    Assert.StartsWith(Root + "/", physical + "/", StringComparison.Ordinal);
                    Assert.DoesNotContain("/../", physical + "/", StringComparison.Ordinal);
                }

                if (path.StartsWith("/files", StringComparison.Ordinal) && aliasWithoutSlash.TryMap(path, out var aliased))
                {
                    Assert.StartsWith(Root + "/pub/", aliased + "/", StringComparison.Ordinal);
                    Assert.DoesNotContain("/../", aliased + "/", StringComparison.Ordinal);
                }
            }, iter: 20_000);
        }
        finally
        {
            root.Clear();
            aliasWithoutSlash.Clear();
        }
    }
}
