using ProductionServing.Directives;

namespace ProductionServing.Configuration;

/// <summary>Validation of one <see cref="UpstreamOptions"/> group.</summary>
internal static class UpstreamRules
{
    /// <param name="path">The upstream's key path (<c>Upstreams.name</c>).</param>
    /// <param name="upstream">The upstream as bound.</param>
    /// <param name="canDiscover">Whether an <see cref="Discovery.IUpstreamDiscovery"/> is registered.</param>
    /// <param name="errors">Where failures go.</param>
    public static void Validate(string path, UpstreamOptions? upstream, bool canDiscover, List<string> errors)
    {
        if (upstream is null)
        {
            errors.Add($"{path}: is empty; give the upstream's Servers or remove it.");
            return;
        }

        if (upstream.Discover is not null)
        {
            ValidateDiscover(path, upstream, canDiscover, errors);
        }
        else if (upstream.Servers.Count == 0)
        {
            errors.Add($"{path}.Servers: an upstream needs at least one server.");
        }

        var primaries = 0;
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < upstream.Servers.Count; i++)
        {
            var serverPath = $"{path}.Servers[{i}]";
            var server = upstream.Servers[i];
            if (server is null)
            {
                errors.Add($"{serverPath}: is empty; give its Address.");
                continue;
            }

            var address = Rules.HttpUrl(errors, serverPath + ".Address", server.Address, "http://127.0.0.1:5001");
            if (address is not null && address.AbsolutePath != "/")
            {
                errors.Add($"{serverPath}.Address: '{server.Address}' must not have a path; put the path in the location's Proxy.Pass.");
            }

            // One server, one entry: its health, connection limit and share of requests belong to it.
            if (address is not null && !seen.TryAdd(address.Scheme + "://" + address.Authority, i))
            {
                errors.Add($"{serverPath}.Address: '{server.Address}' is already Servers[{seen[address.Scheme + "://" + address.Authority]}]; list a server once and give it a Weight instead.");
            }

            Rules.AtLeast(errors, serverPath + ".Weight", server.Weight, 1);
            if (server.MaxConnections is { } maxConnections)
            {
                Rules.AtLeast(errors, serverPath + ".MaxConnections", maxConnections, 1);
            }

            primaries += server.Backup ? 0 : 1;
        }

        if (upstream.Servers.Count > 0 && primaries == 0)
        {
            errors.Add($"{path}.Servers: every server is a Backup; at least one must be a primary.");
        }

        ValidateHashKey(path, upstream, errors);
        Rules.AtLeast(errors, path + ".MaxFails", upstream.MaxFails, 0);
        Rules.Positive(errors, path + ".FailTimeout", upstream.FailTimeout);
        Rules.AtLeast(errors, path + ".Retries", upstream.Retries, 0);
        Rules.Positive(errors, path + ".ConnectTimeout", upstream.ConnectTimeout);
        Rules.Positive(errors, path + ".ReadTimeout", upstream.ReadTimeout);
        Rules.AtLeast(errors, path + ".QueueLimit", upstream.QueueLimit, 0);
        Rules.NotNegative(errors, path + ".QueueTimeout", upstream.QueueTimeout);
        if (upstream.HealthCheck is { } health)
        {
            if (string.IsNullOrEmpty(health.Path) || health.Path[0] != '/')
            {
                errors.Add($"{path}.HealthCheck.Path: '{health.Path}' must start with '/'.");
            }

            Rules.Positive(errors, path + ".HealthCheck.Interval", health.Interval);
            Rules.Positive(errors, path + ".HealthCheck.Timeout", health.Timeout);
        }
    }

    private static void ValidateDiscover(string path, UpstreamOptions upstream, bool canDiscover, List<string> errors)
    {
        // Both at once would leave it unclear whether a listed server may be dropped by the discovery.
        if (upstream.Servers.Count > 0)
        {
            errors.Add($"{path}.Discover: cannot be combined with Servers; list the servers or discover them, not both.");
        }

        var discover = Rules.HttpUrl(errors, path + ".Discover", upstream.Discover, "http://catalog");
        if (discover is not null && (discover.AbsolutePath != "/" || HasPort(upstream.Discover!)))
        {
            errors.Add($"{path}.Discover: '{upstream.Discover}' must be scheme://service-name, without a port or a path; the servers' ports come from the discovery.");
        }

        if (!canDiscover)
        {
            errors.Add($"{path}.Discover: needs service discovery: add the ProductionServing.ServiceDiscovery package and call services.AddProductionServingServiceDiscovery().");
        }
    }

    /// <summary>Whether the URL text gives a port, even the scheme's default (<see cref="Uri.IsDefaultPort"/> cannot tell).</summary>
    private static bool HasPort(string url)
    {
        var start = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var end = url.IndexOf('/', start);
        var authority = end < 0 ? url.AsSpan(start) : url.AsSpan(start, end - start);
        return authority[(authority.LastIndexOf(']') + 1)..].Contains(':');
    }

    private static void ValidateHashKey(string path, UpstreamOptions upstream, List<string> errors)
    {
        // Checked whenever set (a configuration may keep it beside RoundRobin, where it is unused); required with Hash.
        var key = upstream.HashKey;
        if (key is null && upstream.Balancing != BalancingPolicy.Hash)
        {
            return;
        }

        if (string.IsNullOrEmpty(key))
        {
            errors.Add($"{path}.HashKey: is required with Balancing Hash, for example $remote_addr, $uri, $http_x_user or $cookie_session.");
        }
        else if (!VariableTemplate.TryParse(key, captures: 0, out _, out var problem))
        {
            errors.Add($"{path}.HashKey: {problem}");
        }
    }
}
