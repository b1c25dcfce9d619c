using System.Globalization;
using System.Text.Json.Nodes;
using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>
/// nginx's <c>limit_req</c> with its <c>limit_req_zone</c> as a location's <c>RateLimit</c>: the zone's key and rate,
/// the location's burst, and <c>Delay</c> unless <c>nodelay</c> (nginx delays the excess by default).
/// </summary>
internal static class RateLimits
{
    /// <summary>Reads <c>limit_req_zone KEY zone=NAME:SIZE rate=RATE</c>.</summary>
    public static void ReadZone(NginxDirective zone, ImportContext context)
    {
        if (Parameter(zone.Arguments, "zone=") is { } name)
        {
            context.Zones[name.Split(':')[0]] = zone;
        }
        else
        {
            context.Leave(zone, "a limit_req_zone without zone=NAME:SIZE");
        }
    }

    /// <summary>The <c>RateLimit</c> of the first <c>limit_req</c> in force; null when there is none or it cannot be carried over.</summary>
    public static JsonObject? Convert(Scope scope, NginxDirective location, ImportContext context)
    {
        var limits = scope.List("limit_req");
        if (limits.Count == 0)
        {
            return null;
        }

        for (var i = 1; i < limits.Count; i++)
        {
            context.Leave(limits[i], "one RateLimit per location: only the first limit_req is carried over");
        }

        var limit = limits[0];
        var zoneName = Parameter(limit.Arguments, "zone=");
        if (zoneName is null || !context.Zones.TryGetValue(zoneName, out var zone))
        {
            context.Leave(limit, zoneName is null ? "a limit_req without zone=NAME" : $"the zone {zoneName} has no limit_req_zone in the http block");
            return null;
        }

        if (Parameter(limit.Arguments, "delay=") is not null)
        {
            context.Leave(limit, "delay=N (serve the first N at once, delay the rest) is not built; RateLimit either delays all the excess (Delay) or none");
            return null;
        }

        var rate = Parameter(zone.Arguments, "rate=");
        if (rate is null || zone.Arguments.Count == 0 || zone.Arguments[0].StartsWith("zone=", StringComparison.Ordinal))
        {
            context.Leave(zone, "a limit_req_zone needs a key and rate=Nr/s or Nr/m");
            return null;
        }

        if (!LocationDirectives.Template(zone, zone.Arguments[0], captures: 0, context, out var key))
        {
            return null;
        }

        var burst = 0;
        if (Parameter(limit.Arguments, "burst=") is { } burstText && !int.TryParse(burstText, NumberStyles.None, CultureInfo.InvariantCulture, out burst))
        {
            context.Leave(limit, $"burst={burstText} is not a number");
            return null;
        }

        if (!context.ZoneUses.TryGetValue(zoneName, out var uses))
        {
            context.ZoneUses[zoneName] = uses = [];
        }

        uses.Add(location);
        var result = new JsonObject { ["Rate"] = rate };
        if (burst > 0)
        {
            result["Burst"] = burst;
            if (!limit.Arguments.Contains("nodelay"))
            {
                result["Delay"] = true;
            }
        }

        if (key != "$remote_addr")
        {
            result["Key"] = key;
        }

        if (scope.Value("limit_req_status") != "429" && uses.Count == 1 && context.ZoneUses.Count == 1)
        {
            context.Leave(limit, "nginx rejects with 503 unless limit_req_status says otherwise; RateLimit answers 429 with Retry-After");
        }

        return result;
    }

    /// <summary>A zone several locations share is one limit in nginx and one per location here.</summary>
    public static void ReportSharedZones(ImportContext context)
    {
        foreach (var (name, uses) in context.ZoneUses)
        {
            if (uses.Count > 1)
            {
                context.Leave(context.Zones[name], $"the zone {name} is shared by {uses.Count} locations (lines {string.Join(", ", uses.ConvertAll(static u => u.Position.Line))}): one limit across them in nginx, one per location here");
            }
        }
    }

    private static string? Parameter(IReadOnlyList<string> arguments, string prefix)
    {
        foreach (var argument in arguments)
        {
            if (argument.StartsWith(prefix, StringComparison.Ordinal))
            {
                return argument[prefix.Length..];
            }
        }

        return null;
    }
}
