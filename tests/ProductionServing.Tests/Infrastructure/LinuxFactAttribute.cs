namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// A fact that checks something only Linux has (statx, inotify, POSIX signals, <c>mv -T</c>): reported as
/// skipped elsewhere, with <c>why</c>, rather than passed without checking anything.
/// </summary>
/// <remarks>xunit 2 has no dynamic skip, so the attribute sets <see cref="FactAttribute.Skip"/> when it is built.</remarks>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute(string why)
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Linux only: " + why;
        }
    }
}
