namespace ProductionServing.Tests.Infrastructure;

/// <summary>A fact that needs Linux (POSIX signals to a real process); reported as skipped elsewhere.</summary>
/// <remarks>xunit 2 has no dynamic skip, so the attribute sets <see cref="FactAttribute.Skip"/> when it is built.</remarks>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Sends SIGTERM to a real process: Linux only.";
        }
    }
}
