namespace ProductionServing.Import.Conversion;

/// <summary>
/// What the importer knows about the directives it does not convert: the ones with nothing to carry over (an
/// nginx process's own management and buffering, which an in-process server does not need), and for the
/// common ones that have no equivalent, why, and what to use instead (the README's "Coming from nginx" table).
/// </summary>
internal static class DirectiveTable
{
    /// <summary>Directives that need nothing here: the library or Kestrel already behaves that way.</summary>
    private static readonly HashSet<string> Quiet = new(StringComparer.Ordinal)
    {
        // The nginx process: its workers, files and event loop.
        "user", "worker_processes", "worker_connections", "worker_rlimit_nofile", "worker_cpu_affinity", "pid",
        "events", "error_log", "load_module", "multi_accept", "use", "daemon", "master_process", "thread_pool",
        // Sending files and keeping connections: Kestrel and the hot-file cache do it.
        "sendfile", "sendfile_max_chunk", "tcp_nopush", "tcp_nodelay", "keepalive_timeout", "keepalive_requests",
        "open_file_cache", "open_file_cache_valid", "open_file_cache_min_uses", "open_file_cache_errors",
        "aio", "directio", "output_buffers", "postpone_output", "reset_timedout_connection",
        // Types: the framework's extension map gives Content-Type (default_type is converted).
        "types", "types_hash_max_size", "types_hash_bucket_size",
        "server_names_hash_bucket_size", "server_names_hash_max_size", "variables_hash_max_size", "variables_hash_bucket_size",
        // Compression details: Vary is always sent, the level is the library's, requests through proxies are compressed.
        "gzip_vary", "gzip_comp_level", "gzip_proxied", "gzip_buffers", "gzip_http_version", "gzip_disable",
        // Forwarding: HTTP/1.1 and pooled connections always, bodies always streamed through bounded buffers.
        "proxy_http_version", "proxy_buffering", "proxy_buffers", "proxy_buffer_size", "proxy_busy_buffers_size",
        "proxy_request_buffering", "proxy_max_temp_file_size", "proxy_temp_file_write_size", "proxy_temp_path",
        "client_body_buffer_size", "client_body_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path",
        "keepalive", "keepalive_time", "zone",
        // The log format is combined plus timings; the one named by access_log is checked there.
        "log_format",
        // The server block is chosen by its names.
        "server_name",
    };

    /// <summary>Why the common directives without an equivalent are not carried over.</summary>
    private static readonly Dictionary<string, string> Reasons = new(StringComparer.Ordinal)
    {
        ["rewrite"] = "internal URI rewriting is out of scope; redirect with Return (and regex captures), or route with Match",
        ["if"] = "no scripting; put the logic in the app, or in Match regexes",
        ["set"] = "no scripting; put the logic in the app",
        ["map"] = "no scripting; put the logic in the app",
        ["geo"] = "no scripting; use Allow for client networks",
        ["error_page"] = "use ASP.NET Core's UseStatusCodePages before UseProductionServing()",
        ["limit_conn"] = "per-key connection limits are not built; pools and upstream MaxConnections bound concurrency",
        ["limit_conn_zone"] = "per-key connection limits are not built; pools and upstream MaxConnections bound concurrency",
        ["proxy_cache"] = "a disk cache is out of scope",
        ["proxy_cache_path"] = "a disk cache is out of scope",
        ["proxy_cache_valid"] = "a disk cache is out of scope",
        ["proxy_cache_key"] = "a disk cache is out of scope",
        ["sub_filter"] = "rewriting bodies is out of scope",
        ["auth_basic"] = "use ASP.NET Core authentication in the app, or X-Accel-Redirect after the app authorizes",
        ["auth_basic_user_file"] = "use ASP.NET Core authentication in the app",
        ["auth_request"] = "use ASP.NET Core authentication in the app, or X-Accel-Redirect after the app authorizes",
        ["listen"] = "Kestrel's endpoints: ASPNETCORE_URLS or the Kestrel:Endpoints section",
        ["ssl_certificate"] = "TLS is Kestrel's: a certificate in Kestrel:Endpoints",
        ["ssl_certificate_key"] = "TLS is Kestrel's: a certificate in Kestrel:Endpoints",
        ["http2"] = "protocols are Kestrel's: Kestrel:Endpoints:<name>:Protocols",
        ["real_ip_header"] = "use ASP.NET Core's UseForwardedHeaders before UseProductionServing()",
        ["set_real_ip_from"] = "use ASP.NET Core's UseForwardedHeaders before UseProductionServing()",
        ["server_tokens"] = "Kestrel's Server header: KestrelServerOptions.AddServerHeader = false",
        ["charset"] = "the framework's Content-Type is sent as is",
        ["fastcgi_pass"] = "FastCGI is not HTTP; run the app behind an HTTP server and forward with proxy_pass",
        ["uwsgi_pass"] = "uwsgi is not HTTP; run the app behind an HTTP server and forward with proxy_pass",
        ["scgi_pass"] = "SCGI is not HTTP; run the app behind an HTTP server and forward with proxy_pass",
        ["grpc_pass"] = "gRPC forwarding is not built",
        ["memcached_pass"] = "memcached is not HTTP",
        ["proxy_hide_header"] = "remove it on the way out with Headers: { \"Name\": \"\" }",
        ["stub_status"] = "use Status (a page, status.json and metrics)",
        ["resolver"] = "names resolve through the operating system's resolver",
    };

    /// <summary>Directives that make a location's own handler, which the library cannot run.</summary>
    public static readonly string[] ForeignHandlers = ["fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass"];

    /// <summary>Whether a directive needs nothing carried over.</summary>
    public static bool IsQuiet(string name) => Quiet.Contains(name);

    /// <summary>Why a directive is not carried over.</summary>
    public static string Reason(string name) =>
        Reasons.TryGetValue(name, out var reason) ? reason
        : name.StartsWith("ssl_", StringComparison.Ordinal) ? "TLS is Kestrel's: Kestrel:Endpoints and its HTTPS settings"
        : name.StartsWith("fastcgi_", StringComparison.Ordinal) ? "FastCGI is not HTTP; run the app behind an HTTP server and forward with proxy_pass"
        : "no equivalent in ProductionServing";
}
