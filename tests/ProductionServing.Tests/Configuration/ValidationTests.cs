using Microsoft.Extensions.Options;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Configuration;

/// <summary>
/// Every configuration rule that can be checked at startup, with the exact key path and message users see.
/// </summary>
public sealed class ValidationTests
{
    [Theory]
    [InlineData("""{ "Match": "~~ /x", "App": {} }""", "Locations[0].Match: unknown modifier '~~'; use =, ^~, ~ or ~*.")]
    [InlineData("""{ "Match": "=~ /x", "App": {} }""", "Locations[0].Match: unknown modifier '=~'; use =, ^~, ~ or ~*.")]
    [InlineData("""{ "Match": "api/", "App": {} }""", "Locations[0].Match: 'api/' is neither a path starting with '/' nor '[modifier] pattern' (modifiers: =, ^~, ~, ~*).")]
    [InlineData("""{ "Match": "= api", "App": {} }""", "Locations[0].Match: the path 'api' must start with '/'.")]
    [InlineData("""{ "Match": "~", "App": {} }""", "Locations[0].Match: modifier '~' needs a pattern after it.")]
    [InlineData("""{ "App": {} }""", "Locations[0].Match: is required: '[modifier] pattern', for example '/assets/', '= /healthz' or '~* \\.png$'.")]
    [InlineData("""{ "Match": "/a//b/", "App": {} }""", "Locations[0].Match: '/a//b/' can never match, because requests are matched on the decoded path with '//', '.' and '..' resolved; write the path in that form.")]
    [InlineData("""{ "Match": "^~ /a/../b/", "App": {} }""", "Locations[0].Match: '/a/../b/' can never match, because requests are matched on the decoded path with '//', '.' and '..' resolved; write the path in that form.")]
    [InlineData("""{ "Match": "/a%20b", "App": {} }""", "Locations[0].Match: '/a%20b' can never match, because requests are matched on the decoded path with '//', '.' and '..' resolved; write the path in that form.")]
    public void Match_Malformed_NamesTheKey(string location, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures(ServingJson.Config(location)));
    }

    [Fact]
    public void Match_RegexThatDoesNotCompile_NamesTheKeyAndTheProblem()
    {
        var failures = TestConfig.Failures(ServingJson.Config("""{ "Match": "/ok/", "App": {} }, { "Match": "~* ^/(unclosed", "App": {} }"""));

        var failure = Assert.Single(failures);
        Assert.StartsWith("Locations[1].Match: '^/(unclosed' is not a valid regular expression: ", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/", "/api/")]
    [InlineData("^~ /api/", "/api/")]
    [InlineData("/api/", "^~ /api/")]
    [InlineData("= /x", "= /x")]
    public void Match_DuplicatePrefixOrExact_IsRefused(string first, string second)
    {
        var failures = TestConfig.Failures(ServingJson.Config($$"""{ "Match": "{{first}}", "App": {} }, { "Match": "/other/", "App": {} }, { "Match": "{{second}}", "App": {} }"""));

        var failure = Assert.Single(failures);
        Assert.StartsWith("Locations[2].Match: duplicates Locations[0] (", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Match_ExactAndPrefixOfTheSamePath_MayCoexist()
    {
        Assert.Empty(TestConfig.Failures(ServingJson.Config("""{ "Match": "= /x", "App": {} }, { "Match": "/x", "App": {} }, { "Match": "~ /x", "App": {} }, { "Match": "~ /x", "App": {} }""")));
    }

    [Fact]
    public void Location_WithoutHandler_IsRefused()
    {
        Assert.Contains("Locations[0]: has no handler; set exactly one of Static, Proxy, App or Return.",
            TestConfig.Failures(ServingJson.Config("""{ "Match": "/x/" }""")));
    }

    [Fact]
    public void Location_WithTwoHandlers_IsRefused()
    {
        Assert.Contains("Locations[0]: has 2 handlers (Static, App); set exactly one.",
            TestConfig.Failures(ServingJson.Config("""{ "Match": "/x/", "Static": {}, "App": {} }""")));
    }

    [Fact]
    public void Static_RootAndAlias_IsRefused()
    {
        Assert.Contains("Locations[0].Static: Root and Alias cannot both be set; Root appends the whole request path, Alias replaces the matched prefix.",
            TestConfig.Failures(ServingJson.Config("""{ "Match": "/x/", "Static": { "Root": "a", "Alias": "b/" } }""")));
    }

    [Fact]
    public void Static_AliasOnRegexLocation_IsRefused()
    {
        Assert.Contains("Locations[0].Static.Alias: is only for prefix and exact locations; use Root on a regex location.",
            TestConfig.Failures(ServingJson.Config("""{ "Match": "~ \\.png$", "Static": { "Alias": "/srv/img/" } }""")));
    }

    [Theory]
    [InlineData("""["$uri"]""", "Locations[0].Static.TryFiles: needs at least two entries, the candidates and a last fallback (=404, @app or a path), as nginx's try_files does.")]
    [InlineData("""["=404", "$uri"]""", "Locations[0].Static.TryFiles[0]: '=404' may only be the last entry.")]
    [InlineData("""["$uri", "@backend"]""", "Locations[0].Static.TryFiles[1]: '@backend' is not a named location; the only one is @app (the app, through the default pool).")]
    [InlineData("""["$uri", "=4044"]""", "Locations[0].Static.TryFiles[1]: '=4044' is not =CODE with an HTTP status code from 100 to 599, such as =404.")]
    [InlineData("""["$uri", "=600"]""", "Locations[0].Static.TryFiles[1]: '=600' is not =CODE with an HTTP status code from 100 to 599, such as =404.")]
    [InlineData("""["index.html", "=404"]""", "Locations[0].Static.TryFiles[0]: 'index.html' must start with '/' or $uri.")]
    [InlineData("""["$uri", "/fallback?$host"]""", "Locations[0].Static.TryFiles[1]: '/fallback?$host' uses a variable other than $uri, $args and $is_args, the ones a last entry may use.")]
    [InlineData("""["$uri", "/render/$args"]""", "Locations[0].Static.TryFiles[1]: '/render/$args' puts the query in the path; write $args after '?' (/index.php?$args) or $is_args$args at the end.")]
    [InlineData("""["$uri", "/a$is_args/b"]""", "Locations[0].Static.TryFiles[1]: '/a$is_args/b' puts the query in the path; write $args after '?' (/index.php?$args) or $is_args$args at the end.")]
    [InlineData("""["$uri$is_args$args", "=404"]""", "Locations[0].Static.TryFiles[0]: '$uri$is_args$args' uses a variable other than $uri, the only one a candidate may use.")]
    public void Static_TryFiles_Malformed_IsRefused(string tryFiles, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures(ServingJson.Config($$"""{ "Match": "/", "Static": { "TryFiles": {{tryFiles}} } }""")));
    }

    [Theory]
    [InlineData("""{ "DefaultContentType": "not a type" }""", "Locations[0].Static.DefaultContentType: 'not a type' is not a media type such as application/octet-stream.")]
    [InlineData("""{ "MaxRanges": 0 }""", "Locations[0].Static.MaxRanges: must be at least 1 (got 0).")]
    [InlineData("""{ "Index": [ "" ] }""", "Locations[0].Static.Index[0]: is empty; give a file name such as index.html.")]
    [InlineData("""{ "CacheControl": "public\r\nX-Evil: 1" }""", "Locations[0].Static.CacheControl: must be a single header line (no CR or LF).")]
    public void Static_BadValues_AreRefused(string settings, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures(ServingJson.Config($$"""{ "Match": "/", "Static": {{settings}} }""")));
    }

    [Fact]
    public void Static_ListsSetToNullInCode_AreRefused()
    {
        // JSON cannot do this (null keeps a list's default); code can, past the nullable warning.
        var options = new ProductionServingOptions();
        options.Locations.Add(new LocationOptions { Match = "/", Static = new StaticOptions { Index = null!, TryFiles = null! } });

        var result = new ProductionServing.Configuration.ProductionServingOptionsValidator().Validate(Options.DefaultName, options);

        Assert.Equal(
            ["Locations[0].Static.Index: is null; leave it unset for index.html, or use an empty list to turn index files off.",
             "Locations[0].Static.TryFiles: is null; leave it unset or use an empty list for none."],
            result.Failures);
    }

    [Theory]
    // RFC 2606 reserves .invalid: such names never resolve, on any machine.
    [InlineData("backend.invalid", "Locations[0].Proxy.Pass: host 'backend.invalid' is neither an upstream (none are defined) nor a host name that resolves (nginx: \"host not found in upstream\").")]
    [InlineData("no-such-host.invalid", "Locations[0].Proxy.Pass: host 'no-such-host.invalid' is neither an upstream (none are defined) nor a host name that resolves (nginx: \"host not found in upstream\").")]
    public void Proxy_PassToUndefinedUpstream_IsRefused(string host, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures(ServingJson.Config($$"""{ "Match": "/api/", "Proxy": { "Pass": "http://{{host}}" } }""")));
    }

    [Fact]
    public void Proxy_PassToUndefinedUpstream_ListsTheDefinedOnes()
    {
        var upstreams = ServingJson.Upstream("backend", "", "http://127.0.0.1:5001");

        Assert.Contains("Locations[0].Proxy.Pass: host 'backedn.invalid' is neither an upstream (defined: backend) nor a host name that resolves (nginx: \"host not found in upstream\").",
            TestConfig.Failures(ServingJson.Config("""{ "Match": "/api/", "Proxy": { "Pass": "http://backedn.invalid/" } }""", upstreams)));
    }

    [Theory]
    [InlineData("backend:8080", "Locations[0].Proxy.Pass: the upstream name 'backend' takes no port; the servers' addresses carry the ports.")]
    [InlineData("BACKEND", null)]
    [InlineData("127.0.0.1:5001", null)]
    [InlineData("[::1]:5001", null)]
    [InlineData("localhost:5001", null)]
    public void Proxy_PassHost_IsAnUpstreamOrAResolvableHost(string host, string? expected)
    {
        var upstreams = ServingJson.Upstream("backend", "", "http://127.0.0.1:5001");

        var failures = TestConfig.Failures(ServingJson.Config($$"""{ "Match": "/api/", "Proxy": { "Pass": "http://{{host}}" } }""", upstreams))
            .Where(f => f.StartsWith("Locations[0].Proxy.Pass", StringComparison.Ordinal));

        Assert.Equal(expected is null ? [] : [expected], failures);
    }

    [Fact]
    public void Proxy_PassScheme_MustMatchTheUpstreamServers()
    {
        var upstreams = ServingJson.Upstream("backend", "", "http://127.0.0.1:5001");

        Assert.Contains("Locations[0].Proxy.Pass: 'https' does not match the scheme of upstream 'backend''s server addresses; use the same scheme in both.",
            TestConfig.Failures(ServingJson.Config("""{ "Match": "/api/", "Proxy": { "Pass": "https://backend" } }""", upstreams)));
    }

    [Theory]
    [InlineData("", "Locations[0].Proxy.Pass: is required, for example 'http://backend or http://127.0.0.1:5001/'.")]
    [InlineData("backend", "Locations[0].Proxy.Pass: 'backend' is not an absolute http or https URL, for example 'http://backend or http://127.0.0.1:5001/'.")]
    [InlineData("ftp://127.0.0.1/", "Locations[0].Proxy.Pass: 'ftp://127.0.0.1/' is not an absolute http or https URL, for example 'http://backend or http://127.0.0.1:5001/'.")]
    [InlineData("http://127.0.0.1/x?y=1", "Locations[0].Proxy.Pass: 'http://127.0.0.1/x?y=1' must not have user info, a query or a fragment.")]
    [InlineData("http://user:pw@127.0.0.1/", "Locations[0].Proxy.Pass: 'http://user:pw@127.0.0.1/' must not have user info, a query or a fragment.")]
    public void Proxy_PassNotAnHttpUrl_IsRefused(string pass, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures(ServingJson.Config($$"""{ "Match": "/api/", "Proxy": { "Pass": "{{pass}}" } }""")));
    }

    [Fact]
    public void Proxy_PassWithPathOnRegexLocation_IsRefusedAsNginxDoes()
    {
        Assert.Contains("Locations[0].Proxy.Pass: cannot have a path part on a regex location (nginx: \"proxy_pass cannot have URI part in location given by regular expression\"); remove the path.",
            TestConfig.Failures(ServingJson.Config("""{ "Match": "~ ^/api/", "Proxy": { "Pass": "http://127.0.0.1:5001/" } }""")));
    }

    [Fact]
    public void App_UndefinedPool_IsRefused()
    {
        Assert.Contains("Locations[0].App.Pool: pool 'slwo' is not defined; use 'default', or null to run the app without a pool.",
            TestConfig.Failures(ServingJson.Config("""{ "Match": "/reports/", "App": { "Pool": "slwo" } }""")));
    }

    [Fact]
    public void App_DefaultPool_IsCaseInsensitive()
    {
        Assert.Empty(TestConfig.Failures(ServingJson.Config("""{ "Match": "/reports/", "App": { "Pool": "Default" } }""")));
    }

    [Theory]
    [InlineData("""{ "MaxConcurrency": 0 }""", "Pools.p.MaxConcurrency: must be at least 1 (got 0).")]
    [InlineData("""{ "MaxConcurrency": -5 }""", "Pools.p.MaxConcurrency: must be at least 1 (got -5).")]
    [InlineData("""{ "QueueLimit": -1 }""", "Pools.p.QueueLimit: must be at least 0 (got -1).")]
    [InlineData("""{ "QueueTimeout": "-00:00:01" }""", "Pools.p.QueueTimeout: must not be negative (got -00:00:01).")]
    [InlineData("""{ "RequestTimeout": "00:00:00" }""", "Pools.p.RequestTimeout: must be a positive duration (got 00:00:00).")]
    [InlineData("""{ "TargetQueueDelay": "-00:00:00.005" }""", "Pools.p.TargetQueueDelay: must be a positive duration (got -00:00:00.0050000).")]
    [InlineData("""{ "DedicatedThreads": true }""", "Pools.p.Workers: is required with DedicatedThreads: true (the number of worker threads).")]
    [InlineData("""{ "DedicatedThreads": true, "Workers": 0 }""", "Pools.p.Workers: must be at least 1 (got 0).")]
    [InlineData("""{ "Workers": 4 }""", "Pools.p.Workers: applies only with DedicatedThreads: true; set DedicatedThreads, or use MaxConcurrency to limit a thread-pool pool.")]
    public void Pool_BadLimits_AreRefused(string pool, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures(ServingJson.Config("", pools: $$""" "p": {{pool}} """)));
    }

    [Theory]
    [InlineData("""{ "Servers": [] }""", "Upstreams.u.Servers: an upstream needs at least one server.")]
    [InlineData("""{ }""", "Upstreams.u.Servers: an upstream needs at least one server.")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1", "Backup": true } ] }""", "Upstreams.u.Servers: every server is a Backup; at least one must be a primary.")]
    [InlineData("""{ "Servers": [ { } ] }""", "Upstreams.u.Servers[0].Address: is required, for example 'http://127.0.0.1:5001'.")]
    [InlineData("""{ "Servers": [ { "Address": "127.0.0.1:5001" } ] }""", "Upstreams.u.Servers[0].Address: '127.0.0.1:5001' is not an absolute http or https URL, for example 'http://127.0.0.1:5001'.")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:5001/v1" } ] }""", "Upstreams.u.Servers[0].Address: 'http://127.0.0.1:5001/v1' must not have a path; put the path in the location's Proxy.Pass.")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:5001" }, { "Address": "http://127.0.0.1:5002" }, { "Address": "HTTP://127.0.0.1:5001/" } ] }""", "Upstreams.u.Servers[2].Address: 'HTTP://127.0.0.1:5001/' is already Servers[0]; list a server once and give it a Weight instead.")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1", "Weight": 0 } ] }""", "Upstreams.u.Servers[0].Weight: must be at least 1 (got 0).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1", "MaxConnections": 0 } ] }""", "Upstreams.u.Servers[0].MaxConnections: must be at least 1 (got 0).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "Balancing": "Hash" }""", "Upstreams.u.HashKey: is required with Balancing Hash, for example $remote_addr, $uri, $http_x_user or $cookie_session.")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "Balancing": "Hash", "HashKey": "$http_" }""", "Upstreams.u.HashKey: $http_ is not a variable; use $scheme, $host, $request_uri, $uri, $args, $request_method, $remote_addr, $request_id, $http_NAME, $cookie_NAME or $1 to $9.")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "HashKey": "$1" }""", "Upstreams.u.HashKey: $1 is a capture, but there is no regex whose groups it could name (only a regex location has captures).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "MaxFails": -1 }""", "Upstreams.u.MaxFails: must be at least 0 (got -1).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "FailTimeout": "00:00:00" }""", "Upstreams.u.FailTimeout: must be a positive duration (got 00:00:00).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "Retries": -1 }""", "Upstreams.u.Retries: must be at least 0 (got -1).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "ConnectTimeout": "-00:00:05" }""", "Upstreams.u.ConnectTimeout: must be a positive duration (got -00:00:05).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "ReadTimeout": "100.00:00:00" }""", "Upstreams.u.ReadTimeout: must be at most 24.20:31:23.6470000, the longest timer .NET sets (got 100.00:00:00).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "ReadTimeout": "00:00:00" }""", "Upstreams.u.ReadTimeout: must be a positive duration (got 00:00:00).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "QueueLimit": -1 }""", "Upstreams.u.QueueLimit: must be at least 0 (got -1).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "QueueTimeout": "-00:00:01" }""", "Upstreams.u.QueueTimeout: must not be negative (got -00:00:01).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "HealthCheck": { "Path": "healthz" } }""", "Upstreams.u.HealthCheck.Path: 'healthz' must start with '/'.")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "HealthCheck": { "Interval": "00:00:00" } }""", "Upstreams.u.HealthCheck.Interval: must be a positive duration (got 00:00:00).")]
    [InlineData("""{ "Servers": [ { "Address": "http://127.0.0.1:1" } ], "HealthCheck": { "Timeout": "-00:00:01" } }""", "Upstreams.u.HealthCheck.Timeout: must be a positive duration (got -00:00:01).")]
    public void Upstream_BadSettings_AreRefused(string upstream, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures(ServingJson.Config("", upstreams: $$""" "u": {{upstream}} """)));
    }

    [Fact]
    public void Status_PathWithoutSlash_IsRefused()
    {
        Assert.Contains("Status.Path: 'serving' must start with '/' and name a path below it, for example '/_serving'.", TestConfig.Failures(ServingJson.Config("", section: """ "Status": { "Path": "serving" } """)));
    }

    [Fact]
    public void ManyProblems_AreAllReportedAtOnce()
    {
        var json = ServingJson.Config(
            """
            { "Match": "~~ /a", "App": {} },
            { "Match": "/b/" },
            { "Match": "/c/", "App": { "Pool": "nope" } },
            { "Match": "~ (", "App": {} },
            { "Match": "/d/", "Apps": {} }
            """,
            pools: """ "p": { "MaxConcurrency": 0, "QueueTimeout": "soon" } """);

        var exception = Assert.Throws<OptionsValidationException>(() => TestConfig.Options(json));

        Assert.Contains("Locations[0].Match: unknown modifier '~~'; use =, ^~, ~ or ~*.", exception.Failures);
        Assert.Contains("Locations[1]: has no handler; set exactly one of Static, Proxy, App or Return.", exception.Failures);
        Assert.Contains("Locations[2].App.Pool: pool 'nope' is not defined; use 'default', or null to run the app without a pool.", exception.Failures);
        Assert.Contains(exception.Failures, f => f.StartsWith("Locations[3].Match: '(' is not a valid regular expression", StringComparison.Ordinal));
        Assert.Contains("Locations[4].Apps: unknown setting; expected one of Match, Internal, AccessLog, Static, Proxy, App, Return, Headers, MaxBodySize, Allow, RateLimit, Compress.", exception.Failures);
        Assert.Contains("Pools.p.MaxConcurrency: must be at least 1 (got 0).", exception.Failures);
        Assert.Contains("Pools.p.QueueTimeout: 'soon' is not a duration; write it as hh:mm:ss (for example 00:00:05) or hh:mm:ss.fff.", exception.Failures);
        // The exception's message carries them all too, for the startup log.
        Assert.Contains("Locations[0].Match", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Pools.p.QueueTimeout", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidConfiguration_OfEverySection_HasNoProblems()
    {
        // Each section of the reference in docs/ at once (every handler, an upstream with every
        // setting, pools, Status): every key binds and passes its own rules.
        var json = """
        { "ProductionServing": {
            "Locations": [
              { "Match": "= /healthz",          "App":    { "Pool": null } },
              { "Match": "^~ /assets/",         "Static": { "Root": "wwwroot", "CacheControl": "public, max-age=31536000, immutable" } },
              { "Match": "~* \\.(png|jpe?g)$",  "Static": { "Root": "wwwroot" } },
              { "Match": "/api/",               "Proxy":  { "Pass": "http://backend" } },
              { "Match": "/old/",               "Proxy":  { "Pass": "http://backend/v2/" } },
              { "Match": "/files/",             "Static": { "Alias": "/srv/files/", "AutoIndex": true } },
              { "Match": "/reports/",           "App":    { "Pool": "slow" } },
              { "Match": "/",                   "Static": { "Root": "wwwroot", "TryFiles": ["$uri", "$uri/", "@app"] } }
            ],
            "Upstreams": {
              "backend": {
                "Servers": [ { "Address": "http://127.0.0.1:5001", "Weight": 2 },
                             { "Address": "http://127.0.0.1:5002" },
                             { "Address": "http://127.0.0.1:5003", "Backup": true } ],
                "Balancing": "RoundRobin",
                "HashKey": "$remote_addr",
                "MaxFails": 1, "FailTimeout": "00:00:10",
                "HealthCheck": { "Path": "/healthz", "Interval": "00:00:05", "Timeout": "00:00:02" },
                "Retries": 1, "ConnectTimeout": "00:00:05", "ReadTimeout": "00:01:00"
              }
            },
            "Pools": {
              "default": { "MaxConcurrency": 256, "QueueLimit": 1024, "QueueTimeout": "00:00:10" },
              "slow":    { "Workers": 4, "DedicatedThreads": true, "QueueLimit": 16, "QueueTimeout": "00:00:05", "RequestTimeout": "00:00:30" }
            },
            "Status": { "Path": "/_serving" }
        } }
        """;

        Assert.Empty(TestConfig.Failures(json));
    }
}
