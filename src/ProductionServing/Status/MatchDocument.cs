using System.Text.Json;
using ProductionServing.Configuration;
using ProductionServing.Directives;
using ProductionServing.Pools;
using ProductionServing.Proxy;
using ProductionServing.Routing;
using ProductionServing.Static;

namespace ProductionServing.Status;

/// <summary>
/// The <c>&lt;Path&gt;/match?path=…</c> answer: which location a path selects and why, in nginx's order
/// (exact, longest prefix, <c>^~</c>, regexes in order, longest prefix), and what the winner resolves to
/// now: the file for static, the server the balancer would pick for proxy, the pool and its queue for app.
/// </summary>
internal static class MatchDocument
{
    /// <summary>Writes the answer for <paramref name="normalized"/> (the path as a request would be matched).</summary>
    /// <param name="json">The writer.</param>
    /// <param name="asked">The path as given.</param>
    /// <param name="normalized">The decoded, normalized path.</param>
    /// <param name="snapshot">The configuration in force.</param>
    /// <param name="status">The status page (its own paths come first for allowed clients).</param>
    /// <param name="monitor">The registries' live state.</param>
    public static void Write(Utf8JsonWriter json, string asked, string normalized, ServingSnapshot snapshot, StatusEndpoint status, StatusMonitor monitor)
    {
        var trace = MatchTrace.Of(snapshot.Matcher, normalized);
        var reasons = LocationTable.NeverSelected(snapshot.Locations);
        json.WriteStartObject();
        json.WriteString("path", asked);
        json.WriteString("normalized", normalized);
        json.WriteBoolean("status_page", status.Owns(normalized));
        WriteLocation(json, "exact", trace.Exact);
        if (trace.LongestPrefix is { } prefix)
        {
            json.WriteStartObject("longest_prefix");
            WriteLocationFields(json, prefix);
            json.WriteBoolean("stops_regex_search", prefix.Pattern.Kind == LocationKind.PrefixNoRegex);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("longest_prefix");
        }

        json.WriteStartArray("regexes");
        for (var i = 0; i < trace.Regexes.Count; i++)
        {
            var trial = trace.Regexes[i];
            json.WriteStartObject();
            json.WriteNumber("number", i + 1);
            WriteLocationFields(json, trial.Location);
            json.WriteString("result", trial.Outcome switch
            {
                RegexOutcome.Match => "match",
                RegexOutcome.NoMatch => "no match",
                RegexOutcome.TimedOut => "timed out",
                _ => "not tried",
            });
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("reason", trace.TimedOut ? "regex timed out" : trace.Reason switch
        {
            MatchReason.Exact => "exact",
            MatchReason.PrefixNoRegex => "^~ prefix",
            MatchReason.Regex => "regex " + trace.RegexNumber.ToString(System.Globalization.CultureInfo.InvariantCulture),
            MatchReason.LongestPrefix => "longest prefix",
            _ => "no match",
        });

        var winner = trace.TimedOut ? null : trace.Winner ?? snapshot.Unmatched;
        if (winner is null)
        {
            json.WriteNull("location");
            json.WriteString("client_gets", "500: a location regex took longer than its timeout");
            json.WriteNull("resolves_to");
            json.WriteEndObject();
            return;
        }

        json.WriteStartObject("location");
        WriteLocationFields(json, winner);
        json.WriteString("kind", trace.Winner is null ? "none" : LocationTable.KindName(winner.Pattern.Kind));
        json.WriteString("handler", Diagnostics.ServingMetrics.HandlerName(winner.Handler.Kind));
        json.WriteBoolean("internal", winner.Internal);
        json.WriteEndObject();
        json.WriteString("client_gets", winner.Internal
            ? "404: an internal location, reached only by an X-Accel-Redirect or a TryFiles path"
            : "served by the location's handler");
        if (trace.Winner is not null && winner.Feature.Index >= 0 && reasons[winner.Feature.Index] is { } never)
        {
            // The analysis claims only what it proves, so this contradiction means a wrong proof: show it rather than hide it.
            json.WriteString("never_selected", never);
        }

        json.WriteStartObject("resolves_to");
        switch (winner.Handler)
        {
            case StaticHandler files:
                StaticResolution.Write(json, files, normalized);
                break;
            case ProxyHandler proxy:
                WriteProxy(json, proxy.Group, normalized, monitor);
                break;
            case AppHandler app:
                WriteApp(json, app.PoolName, monitor);
                break;
            case ReturnHandler answer:
                json.WriteNumber("status", answer.Status);
                json.WriteString("redirect", answer.Location);
                break;
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteLocation(Utf8JsonWriter json, string name, Location? location)
    {
        if (location is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartObject(name);
        WriteLocationFields(json, location);
        json.WriteEndObject();
    }

    private static void WriteLocationFields(Utf8JsonWriter json, Location location)
    {
        json.WriteNumber("index", location.Feature.Index);
        json.WriteString("match", location.Feature.Match);
    }

    private static void WriteProxy(Utf8JsonWriter json, UpstreamGroup group, string path, StatusMonitor monitor)
    {
        json.WriteString("handler", "proxy");
        json.WriteString("upstream", group.Name);
        json.WriteString("balancing", group.Policy.ToString());
        var now = monitor.Time.GetTimestamp();
        var healthy = new List<string>();
        foreach (var server in group.Servers)
        {
            if (server.IsUp(now))
            {
                healthy.Add(server.Name);
            }
        }

        if (group.TryPeek(path, out var next))
        {
            json.WriteString("next_server", next?.Name);
            json.WriteString("rule", next is null
                ? "no server can take a request now (all down or at MaxConnections): the request would wait in the queue or get 502/503"
                : group.Policy switch
                {
                    BalancingPolicy.RoundRobin => "round robin: next is " + next.Name,
                    BalancingPolicy.LeastRequests => "least requests: " + next.Name + " has the fewest in flight for its weight",
                    _ => "hash of $uri: " + next.Name + " owns this path",
                });
        }
        else
        {
            json.WriteNull("next_server");
            json.WriteString("rule", group.Policy == BalancingPolicy.Hash
                ? "hash of a request value (address, header or cookie) that only a real request has: any healthy server"
                : "power of two choices: two random healthy servers, the one with fewer in flight");
        }

        json.WriteStartArray("healthy_servers");
        foreach (var name in healthy)
        {
            json.WriteStringValue(name);
        }

        json.WriteEndArray();
        json.WriteNumber("queued", group.QueueLength);
    }

    private static void WriteApp(Utf8JsonWriter json, string? poolName, StatusMonitor monitor)
    {
        json.WriteString("handler", "app");
        json.WriteString("pool", poolName);
        if (poolName is null)
        {
            json.WriteString("detail", "the app runs directly, without a pool");
            return;
        }

        foreach (var pool in monitor.Pools.Pools)
        {
            if (string.Equals(pool.Name, poolName, StringComparison.OrdinalIgnoreCase))
            {
                var settings = pool.Settings;
                json.WriteNumber("busy", pool.Running);
                json.WriteNumber("queued", pool.QueueLength);
                json.WriteNumber("limit", settings.Limit);
                json.WriteNumber("queue_limit", settings.QueueLimit);
                return;
            }
        }
    }
}
