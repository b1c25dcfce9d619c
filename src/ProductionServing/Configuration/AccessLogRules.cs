using ProductionServing.Diagnostics;

namespace ProductionServing.Configuration;

/// <summary>
/// The rules of <see cref="AccessLogOptions"/>. Whether the file's folder can be created and the file opened
/// is checked when the configuration compiles (against the content root), with a message that names
/// <c>AccessLog.Path</c> too.
/// </summary>
internal static class AccessLogRules
{
    public static void Validate(AccessLogOptions? options, List<string> errors)
    {
        if (options is null)
        {
            return;
        }

        if (!AccessLog.TryParseFormat(options.Format, out _))
        {
            errors.Add($"AccessLog.Format: '{options.Format}' is not a format; use combined (nginx's, with the upstream and timing fields) or json.");
        }

        Rules.AtLeast(errors, "AccessLog.BufferSize", options.BufferSize, 1);
        if (options.Path is { } path)
        {
            if (string.IsNullOrWhiteSpace(path) || path.Contains('\0', StringComparison.Ordinal))
            {
                errors.Add("AccessLog.Path: must name a file (relative to the content root), or be left out to log the lines on the category ProductionServing.AccessLog.");
            }
            else if (path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar))
            {
                errors.Add($"AccessLog.Path: '{path}' names a folder; name the file, for example '{path}access.log'.");
            }
        }
    }
}
