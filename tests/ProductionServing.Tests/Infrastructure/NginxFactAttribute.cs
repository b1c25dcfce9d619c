namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A test that runs Debian's nginx side by side with the library: reported as skipped where nginx is not
/// installed (<c>.ci/run</c> installs it), rather than passed without comparing anything.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NginxFactAttribute : FactAttribute
{
    public NginxFactAttribute()
    {
        if (!NginxProcess.IsInstalled)
        {
            Skip = $"needs nginx at {NginxProcess.Executable} (apt-get install nginx)";
        }
    }
}

/// <summary>The theory form of <see cref="NginxFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NginxTheoryAttribute : TheoryAttribute
{
    public NginxTheoryAttribute()
    {
        if (!NginxProcess.IsInstalled)
        {
            Skip = $"needs nginx at {NginxProcess.Executable} (apt-get install nginx)";
        }
    }
}
