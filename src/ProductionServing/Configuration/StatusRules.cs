using System.Globalization;
using ProductionServing.Directives;
using ProductionServing.Routing;
using ProductionServing.Status;

namespace ProductionServing.Configuration;

/// <summary>Validation of <see cref="ProductionServingOptions.Status"/>.</summary>
internal static class StatusRules
{
    public static void Validate(StatusOptions status, List<string> errors)
    {
        var path = status.Path;
        if (path is null)
        {
            errors.Add("Status.Path: is required when Status is present, for example '/_serving'; remove Status to turn the page off.");
        }
        else if (!path.StartsWith('/') || path.Length == 1)
        {
            errors.Add($"Status.Path: '{path}' must start with '/' and name a path below it, for example '/_serving'.");
        }
        else if (path.EndsWith('/'))
        {
            errors.Add($"Status.Path: '{path}' must not end with '/'; '{path.TrimEnd('/')}' serves the page at both '{path.TrimEnd('/')}' and '{path.TrimEnd('/')}/'.");
        }
        else if (path.Contains('?', StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal))
        {
            errors.Add($"Status.Path: '{path}' must not have a query or a fragment.");
        }
        else if (!RequestPath.TryNormalize(path, out var normalized) || normalized != path || path.Contains('%', StringComparison.Ordinal))
        {
            // Requests are matched on the decoded, normalized path, so a path in another form would never be reached.
            errors.Add($"Status.Path: '{path}' is not a plain decoded path (no '//', '.' or '..' segments, '%' escapes or control characters).");
        }

        if (status.Allow is null)
        {
            errors.Add("Status.Allow: must not be null; leave it out for loopback only (127.0.0.0/8, ::1).");
            return;
        }

        for (var i = 0; i < status.Allow.Count; i++)
        {
            if (!ClientNetworks.TryParse(status.Allow[i], out _, out var problem))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"Status.Allow[{i}]: {problem}"));
            }
        }
    }
}
