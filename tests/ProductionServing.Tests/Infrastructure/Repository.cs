namespace ProductionServing.Tests.Infrastructure;

/// <summary>The repository the tests run from, for tests that read its docs, samples and corpus files.</summary>
internal static class Repository
{
    /// <summary>The repository root: the first folder above the test assembly that holds Library.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Library.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Library.sln in {AppContext.BaseDirectory} or any folder above it.");
    }
}
