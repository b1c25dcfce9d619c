namespace ProductionServing.Tests.Infrastructure;

/// <summary>A theory that checks something only Linux has, as <see cref="LinuxFactAttribute"/>: reported as skipped elsewhere, with <c>why</c>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute(string why)
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Linux only: " + why;
        }
    }
}
