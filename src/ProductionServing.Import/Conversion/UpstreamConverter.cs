using System.Globalization;
using System.Text.Json.Nodes;
using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>
/// The <c>upstream {}</c> blocks the converted locations forward to, as <c>Upstreams</c>: servers with
/// <c>weight</c>, <c>backup</c> and <c>max_conns</c>; <c>max_fails</c> and <c>fail_timeout</c>, which nginx sets
/// per server and the library per group; the balancing method; and the locations' timeouts and tries.
/// </summary>
internal static class UpstreamConverter
{
    /// <summary>The used upstreams, in order of first use.</summary>
    public static JsonObject Convert(ImportContext context)
    {
        var upstreams = new JsonObject();
        foreach (var (name, scheme) in context.UsedUpstreams)
        {
            var block = context.UpstreamBlocks[name];
            upstreams[block.Arguments[0]] = Upstream(block, scheme, context.UpstreamSettings[name].Scope, context);
        }

        return upstreams;
    }

    private static JsonObject Upstream(NginxDirective block, string scheme, Scope firstLocation, ImportContext context)
    {
        var servers = new JsonArray();
        var result = new JsonObject { ["Servers"] = servers };
        NginxDirective? failSource = null;
        (string? MaxFails, string? FailTimeout) fails = default;
        foreach (var directive in block.Block!)
        {
            switch (directive.Name)
            {
                case "server":
                    if (Server(directive, scheme, context, out var maxFails, out var failTimeout) is { } server)
                    {
                        servers.Add(server);
                        if (failSource is null)
                        {
                            (failSource, fails) = (directive, (maxFails, failTimeout));
                        }
                        else if (fails != (maxFails, failTimeout))
                        {
                            context.Leave(directive, $"its max_fails/fail_timeout differ from the server at line {failSource.Position.Line}: one pair per upstream group here, that one's");
                        }
                    }

                    break;
                case "least_conn":
                    result["Balancing"] = "LeastRequests";
                    break;
                case "ip_hash":
                    // nginx hashes the first three octets of an IPv4 address; the whole address keeps a client on one server too.
                    result["Balancing"] = "Hash";
                    result["HashKey"] = "$remote_addr";
                    break;
                case "hash" when directive.Arguments.Count is 1 or 2:
                    if (LocationDirectives.Template(directive, directive.Arguments[0], captures: 0, context, out var key))
                    {
                        result["Balancing"] = "Hash";
                        result["HashKey"] = key;
                    }

                    break;
                case "random" when directive.Arguments.Count > 0 && directive.Arguments[0] == "two":
                    result["Balancing"] = "PowerOfTwoChoices";
                    break;
                case "queue" when directive.Arguments.Count is 1 or 2:
                    Queue(directive, result, context);
                    break;
                default:
                    if (!DirectiveTable.IsQuiet(directive.Name))
                    {
                        context.Leave(directive, directive.Name == "random"
                            ? "random without 'two' is not built; PowerOfTwoChoices is random two"
                            : DirectiveTable.Reason(directive.Name));
                    }

                    break;
            }
        }

        if (fails.MaxFails is { } maxFailsText && maxFailsText != "1")
        {
            result["MaxFails"] = int.Parse(maxFailsText, CultureInfo.InvariantCulture);
        }

        if (fails.FailTimeout is { } timeout && timeout != "00:00:10")
        {
            result["FailTimeout"] = timeout;
        }

        Settings(firstLocation, result, context);
        return result;
    }

    /// <summary>A <c>server ADDRESS [parameters]</c>; null when it is left out (reported).</summary>
    private static JsonObject? Server(NginxDirective directive, string scheme, ImportContext context, out string? maxFails, out string? failTimeout)
    {
        (maxFails, failTimeout) = (null, null);
        if (directive.Arguments.Count == 0)
        {
            context.Leave(directive, "a server without an address");
            return null;
        }

        if (directive.Arguments[0].StartsWith("unix:", StringComparison.Ordinal))
        {
            context.Leave(directive, "UNIX-socket upstreams are not built; listen on loopback TCP");
            return null;
        }

        var address = directive.Arguments[0];
        var server = new JsonObject { ["Address"] = $"{scheme}://{address}{(HasPort(address) ? "" : ":80")}" };
        for (var i = 1; i < directive.Arguments.Count; i++)
        {
            var parameter = directive.Arguments[i];
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            var (name, value) = equals < 0 ? (parameter, "") : (parameter[..equals], parameter[(equals + 1)..]);
            switch (name)
            {
                case "weight" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var weight):
                    if (weight != 1)
                    {
                        server["Weight"] = weight;
                    }

                    break;
                case "max_conns" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var connections):
                    if (connections > 0)
                    {
                        server["MaxConnections"] = connections;
                    }

                    break;
                case "backup" when value.Length == 0:
                    server["Backup"] = true;
                    break;
                case "max_fails" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _):
                    maxFails = value;
                    break;
                case "fail_timeout" when NginxValues.TryTime(value, out var time):
                    failTimeout = NginxValues.Duration(time);
                    break;
                case "down" when value.Length == 0:
                    context.Leave(directive, "a server marked down is left out of Servers");
                    return null;
                default:
                    context.Leave(directive, $"the parameter {parameter} is not carried over (weight, max_conns, backup, max_fails and fail_timeout are)");
                    break;
            }
        }

        return server;
    }

    private static bool HasPort(string address)
    {
        var colon = address.LastIndexOf(':');
        return colon > address.LastIndexOf(']');
    }

    /// <summary>nginx Plus's <c>queue N [timeout=T]</c>: the group's bounded queue for servers at max_conns.</summary>
    private static void Queue(NginxDirective directive, JsonObject result, ImportContext context)
    {
        if (!int.TryParse(directive.Arguments[0], NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
        {
            context.Leave(directive, "not a queue nginx accepts: queue N [timeout=TIME]");
            return;
        }

        result["QueueLimit"] = limit;
        if (directive.Arguments.Count == 2)
        {
            if (directive.Arguments[1].StartsWith("timeout=", StringComparison.Ordinal) && NginxValues.TryTime(directive.Arguments[1]["timeout=".Length..], out var timeout))
            {
                result["QueueTimeout"] = NginxValues.Duration(timeout);
            }
            else
            {
                context.Leave(directive, "not a queue timeout nginx accepts: timeout=TIME");
            }
        }
        else
        {
            // nginx Plus waits 60 s by default; the library's default is 5 s.
            result["QueueTimeout"] = "00:01:00";
        }
    }

    /// <summary>The first forwarding location's proxy_connect_timeout, proxy_read_timeout and proxy_next_upstream_tries.</summary>
    private static void Settings(Scope firstLocation, JsonObject result, ImportContext context)
    {
        foreach (var name in ProxyConverter.UpstreamLevel)
        {
            if (firstLocation.Get(name) is not { } directive)
            {
                continue;
            }

            var value = directive.Arguments.Count == 1 ? directive.Arguments[0] : "";
            if (name == "proxy_next_upstream_tries")
            {
                // nginx counts every try (0: as many as there are servers); Retries counts the ones after the first.
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var tries))
                {
                    context.Leave(directive, "not a number of tries");
                }
                else if (tries > 0)
                {
                    result["Retries"] = tries - 1;
                }
                else
                {
                    context.Leave(directive, "0 (as many tries as servers) is not built: Retries counts the tries after the first; set it");
                }
            }
            else if (NginxValues.TryTime(value, out var time))
            {
                result[name == "proxy_connect_timeout" ? "ConnectTimeout" : "ReadTimeout"] = NginxValues.Duration(time);
            }
            else
            {
                context.Leave(directive, "not a time nginx reads (such as 30s)");
            }
        }
    }
}
