namespace ProductionServing.DeployBench;

/// <summary>
/// The classic deployment's nginx.conf, as a Debian server would run it in front of a Kestrel app:
/// one worker, files with <c>sendfile</c>, <c>open_file_cache</c> and <c>gzip_static</c>, everything
/// else <c>proxy_pass</c>ed to the app over kept-alive upstream connections.
/// </summary>
internal static class NginxConfig
{
    /// <summary>Writes the configuration into its own folder under the temp folder and returns its path.</summary>
    public static string Write(Settings settings, string name, int port, int appPort)
    {
        var prefix = Path.Combine(settings.Temp, "nginx", name);
        Directory.CreateDirectory(prefix);
        var mimeTypes = File.Exists("/etc/nginx/mime.types") ? "include /etc/nginx/mime.types;" : "";
        var path = Path.Combine(prefix, "nginx.conf");
        File.WriteAllText(path, $$"""
            # Written by tests/load/deploy for one run of the classic deployment.
            daemon off;
            master_process on;
            worker_processes 1;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/error.log error;

            events {
                worker_connections 4096;
            }

            http {
                {{mimeTypes}}
                default_type application/octet-stream;
                access_log off;
                client_body_temp_path {{prefix}}/client_body;
                proxy_temp_path {{prefix}}/proxy;
                fastcgi_temp_path {{prefix}}/fastcgi;
                uwsgi_temp_path {{prefix}}/uwsgi;
                scgi_temp_path {{prefix}}/scgi;

                sendfile on;
                tcp_nopush on;
                open_file_cache max=1000 inactive=60s;
                open_file_cache_valid 60s;
                # The .gz sidecars beside each text file (nginx's Debian build has no brotli_static).
                gzip_static on;
                # nginx closes a client connection after 1000 requests by default; Kestrel does not.
                keepalive_requests 1000000;

                upstream app {
                    server 127.0.0.1:{{appPort}};
                    # Without keepalive, HTTP/1.1 and an empty Connection header nginx opens a
                    # connection to the app per request (nginx docs, ngx_http_upstream_module "keepalive").
                    keepalive 64;
                    keepalive_requests 1000000;
                }

                server {
                    listen 127.0.0.1:{{port}};
                    root {{settings.Assets}};

                    location / {
                        try_files $uri @app;
                    }

                    location @app {
                        proxy_pass http://app;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host;
                    }
                }
            }
            """);
        return path;
    }
}
