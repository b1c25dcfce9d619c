namespace ProductionServing.Tests.Import;

/// <summary>
/// What the importer makes of each directive it converts, with nginx's inheritance rules, and what it reports
/// for what it cannot carry over. Every converted document is checked with the library's own validator.
/// </summary>
public sealed class NginxImporterTests : IDisposable
{
    private readonly ImportFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void AddHeader_IsInheritedOnlyByALocationWithNoneOfItsOwn()
    {
        var result = _folder.Import("""
            http {
                add_header X-Http http;
                server {
                    root /srv/site;
                    add_header X-Server server always;
                    add_header X-Both "$host$uri";
                    location / { }
                    location /own/ { add_header X-Own own; }
                }
            }
            """);

        result.Location("/")["Headers"].Is("""{ "X-Server": "server", "X-Both": "$host$uri" }""");
        result.Location("/own/")["Headers"].Is("""{ "X-Own": "own" }""");
        result.NoLeftovers();
        result.IsValidConfiguration();
    }

    [Fact]
    public void Root_Index_AutoIndex_DefaultType_AreInherited_AliasAndTryFilesAreTheLocations()
    {
        var result = _folder.Import("""
            server {
                root /srv/site;
                index home.html index.html;
                default_type text/plain;
                gzip_static on;
                location / { try_files $uri $uri/ /index.html; }
                location /files/ { alias /srv/files/; autoindex on; }
                location = /robots.txt { root /srv/other; expires 1h; }
            }
            """);

        result.Location("/")["Static"].Is("""
            { "Root": "/srv/site", "Index": ["home.html", "index.html"], "TryFiles": ["$uri", "$uri/", "/index.html"], "DefaultContentType": "text/plain" }
            """);
        result.Location("/files/")["Static"].Is("""
            { "Alias": "/srv/files/", "Index": ["home.html", "index.html"], "AutoIndex": true, "DefaultContentType": "text/plain" }
            """);
        result.Location("= /robots.txt")["Static"].Is("""
            { "Root": "/srv/other", "Index": ["home.html", "index.html"], "DefaultContentType": "text/plain", "CacheControl": "max-age=3600" }
            """);
        result.NoLeftovers();
        result.IsValidConfiguration();
    }

    [Fact]
    public void ExpiresWithAnAddedCacheControl_AreOneHeader()
    {
        var result = _folder.Import("""server { root /srv; gzip_static on; location /a/ { expires 1y; add_header Cache-Control "public, immutable"; } location /b/ { expires 1m; add_header Cache-Control public; proxy_pass http://127.0.0.1:5001; } }""");

        // On files, in Static.CacheControl: error answers do not get it (nginx's expires and add_header skip them).
        result.Location("/a/").Is("""{ "Match": "/a/", "Static": { "Root": "/srv", "CacheControl": "max-age=31536000, public, immutable" } }""");
        result.Location("/b/")["Headers"].Is("""{ "Cache-Control": "max-age=60, public" }""");
    }

    [Fact]
    public void WithoutGzipStatic_SidecarsAreNotSent_AsInNginx()
    {
        var result = _folder.Import("server { root /srv; location / { } }");

        result.Location("/")["Static"].Is("""{ "Root": "/srv", "Precompressed": false }""");
    }

    [Theory]
    [InlineData("expires 30d;", "max-age=2592000")]
    [InlineData("expires 1h30m;", "max-age=5400")]
    [InlineData("expires max;", "max-age=315360000")]
    [InlineData("expires epoch;", "no-cache")]
    [InlineData("expires -1;", "no-cache")]
    public void Expires_IsTheCacheControlNginxSends(string expires, string cacheControl)
    {
        var result = _folder.Import($$"""server { root /srv; gzip_static on; location / { {{expires}} } location /api/ { {{expires}} proxy_pass http://127.0.0.1:5001; } }""");

        Assert.Equal(cacheControl, (string?)result.Location("/")["Static"]!["CacheControl"]);
        Assert.Equal(cacheControl, (string?)result.Location("/api/")["Headers"]!["Cache-Control"]);
        result.IsValidConfiguration();
    }

    [Fact]
    public void Upstream_WithItsServersAndBalancing_AndTheLocationsTimeouts()
    {
        var result = _folder.Import("""
            http {
                upstream api {
                    hash $cookie_session consistent;
                    server 127.0.0.1:5001 weight=3 max_fails=2 fail_timeout=20s max_conns=50;
                    server 127.0.0.1:5002 max_fails=2 fail_timeout=20s;
                    server 127.0.0.1 max_fails=2 fail_timeout=20s backup;
                    keepalive 16;
                }
                server {
                    proxy_connect_timeout 2s;
                    location /api/ {
                        proxy_pass http://api/v2/;
                        proxy_read_timeout 90s;
                        proxy_next_upstream_tries 3;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                        proxy_set_header Host $http_host;
                        proxy_set_header X-Request-Id $request_id;
                        proxy_redirect off;
                    }
                }
            }
            """);

        result.Location("/api/")["Proxy"].Is("""
            { "Pass": "http://api/v2/", "PreserveHost": true, "SetHeaders": { "X-Request-Id": "$request_id" }, "RewriteRedirects": false }
            """);
        result.Section()["Upstreams"].Is("""
            { "api": {
                "Servers": [
                  { "Address": "http://127.0.0.1:5001", "Weight": 3, "MaxConnections": 50 },
                  { "Address": "http://127.0.0.1:5002" },
                  { "Address": "http://127.0.0.1:80", "Backup": true } ],
                "Balancing": "Hash", "HashKey": "$cookie_session",
                "MaxFails": 2, "FailTimeout": "00:00:20",
                "ConnectTimeout": "00:00:02", "ReadTimeout": "00:01:30", "Retries": 2 } }
            """);
        result.NoLeftovers();
        result.IsValidConfiguration();
    }

    [Theory]
    [InlineData("least_conn;", """ "Balancing": "LeastRequests" """)]
    [InlineData("ip_hash;", """ "Balancing": "Hash", "HashKey": "$remote_addr" """)]
    [InlineData("random two least_conn;", """ "Balancing": "PowerOfTwoChoices" """)]
    public void BalancingMethods(string method, string expected)
    {
        var result = _folder.Import($$"""http { upstream b { {{method}} server 127.0.0.1:5001; } server { location / { proxy_pass http://b; } } }""");

        result.Section()["Upstreams"]!["b"].Is($$"""{ "Servers": [ { "Address": "http://127.0.0.1:5001" } ], {{expected}} }""");
        result.NoLeftovers();
    }

    [Fact]
    public void LocationsThatDifferOnAnUpstreamsSettings_AreReported()
    {
        var result = _folder.Import("""
            http {
                upstream b { server 127.0.0.1:5001 max_fails=3; server 127.0.0.1:5002; server 127.0.0.1:5003 down; }
                server {
                    location /a/ { proxy_pass http://b; proxy_read_timeout 5s; }
                    location /b/ { proxy_pass http://b; }
                }
            }
            """);

        Assert.Equal(
        [
            "2: server 127.0.0.1:5002: its max_fails/fail_timeout differ from the server at line 2: one pair per upstream group here, that one's",
            "2: server 127.0.0.1:5003 down: a server marked down is left out of Servers",
            "5: proxy_pass http://b: proxy_read_timeout is nginx's default here and 5s in the first location forwarding to b (line 4): one value per upstream group, the first location's",
        ], result.LeftoverLines());
        Assert.Equal(2, result.Section()["Upstreams"]!["b"]!["Servers"]!.AsArray().Count);
    }

    [Fact]
    public void TheAppsUpstream_BecomesAppLocations_AndItsNamedLocationAtApp()
    {
        var result = _folder.Import("""
            http {
                upstream kestrel { server 127.0.0.1:5000; }
                server {
                    root /srv/wwwroot;
                    location / { try_files $uri @kestrel; }
                    location @kestrel { proxy_pass http://kestrel; proxy_set_header X-Real-IP $remote_addr; }
                    location /api/ { proxy_pass http://kestrel; }
                    location /hub/ { proxy_pass http://127.0.0.1:5000; }
                }
            }
            """, app: "kestrel");

        Assert.Equal(["$uri", "@app"], result.Location("/")["Static"]!["TryFiles"]!.AsArray().Select(e => (string?)e));
        result.Location("/api/")["App"].Is("{}");
        Assert.Null(result.Location("/hub/")["App"]);
        Assert.Null(result.Section()["Upstreams"]);
        result.NoLeftovers();
        result.IsValidConfiguration();
    }

    [Fact]
    public void AppByAddress_AndANamedLocationThatIsNotTheApp()
    {
        var result = _folder.Import("""
            server {
                root /srv;
                location / { try_files $uri @legacy; }
                location @legacy { proxy_pass http://127.0.0.1:8080; }
                location /app/ { proxy_pass http://127.0.0.1:5000/; }
            }
            """, app: "http://127.0.0.1:5000");

        Assert.Equal(["$uri", "=404"], result.Location("/")["Static"]!["TryFiles"]!.AsArray().Select(e => (string?)e));
        result.Location("/app/")["App"].Is("{}");
        Assert.Equal(
        [
            "3: try_files $uri @legacy: the fallback @legacy is not carried over: the only named location here is @app, the app itself (name the app's upstream with --app); the location answers 404 where nginx would go to @legacy",
            "4: location @legacy: named locations are reached only from try_files here, and the only one is @app, the app itself (name the app's upstream with --app)",
            "5: proxy_pass http://127.0.0.1:5000/: the app sees the request's own path here; nginx replaced the location's prefix with the proxy_pass path",
        ], result.LeftoverLines());
    }

    [Fact]
    public void WordPressStyle_IndexPhp_AndTheQueryKeptByTryFiles()
    {
        var result = _folder.Import("""
            http {
                upstream php { server 127.0.0.1:9000; }
                server {
                    root /srv/wordpress;
                    index index.php index.html;
                    location / { try_files $uri $uri/ /index.php?$query_string; }
                    location ~ \.php$ { proxy_pass http://php; }
                }
            }
            """);

        // The library's Index redirects internally as nginx's does, so index.php reaches the .php location.
        result.Location("/")["Static"].Is("""
            { "Root": "/srv/wordpress", "Index": ["index.php", "index.html"], "TryFiles": ["$uri", "$uri/", "/index.php?$args"], "Precompressed": false }
            """);
        result.NoLeftovers();
        result.IsValidConfiguration();
    }

    [Fact]
    public void FastCgi_KeepsItsLocation_Answering502_SoNoOtherLocationServesItsPaths()
    {
        var result = _folder.Import("""
            server {
                root /srv;
                location ~ \.php$ { fastcgi_pass unix:/run/php/php-fpm.sock; fastcgi_param HTTPS on; }
            }
            """);

        result.Location("~ \\.php$").Is("""{ "Match": "~ \\.php$", "Return": { "Status": 502 } }""");
        Assert.Equal(
        [
            "3: fastcgi_pass unix:/run/php/php-fpm.sock: FastCGI is not HTTP; run the app behind an HTTP server and forward with proxy_pass; the location answers 502 so that no other location serves its paths",
            "3: fastcgi_param HTTPS on: FastCGI is not HTTP; run the app behind an HTTP server and forward with proxy_pass",
        ], result.LeftoverLines());
    }

    [Theory]
    [InlineData("return 301 https://$host$request_uri;", """{ "Status": 301, "Location": "https://$host$request_uri" }""")]
    [InlineData("return https://example.com/;", """{ "Status": 302, "Location": "https://example.com/" }""")]
    [InlineData("return 200 'ok\\n';", """{ "Status": 200, "Body": "ok\n", "ContentType": "text/plain" }""")]
    [InlineData("default_type application/json; return 200 '{\"a\":1}';", """{ "Status": 200, "Body": "{\"a\":1}", "ContentType": "application/json" }""")]
    [InlineData("return 404;", """{ "Status": 404 }""")]
    [InlineData("return 301 /new/$1;", """{ "Status": 301, "Location": "/new/$1" }""")]
    public void Return_InItsForms(string directives, string expected)
    {
        var result = _folder.Import($$"""server { location ~ ^/old/(.*)$ { {{directives}} } }""");

        result.Location("~ ^/old/(.*)$")["Return"].Is(expected);
        result.NoLeftovers();
        result.IsValidConfiguration();
    }

    [Fact]
    public void AServerLevelReturn_AnswersEveryRequest()
    {
        var result = _folder.Import("server { listen 80; return 301 https://$host$request_uri; location /x/ { } }");

        result.Locations().Is("""[ { "Match": "/", "Return": { "Status": 301, "Location": "https://$host$request_uri" } } ]""");
        Assert.Equal(
        [
            "1: listen 80: Kestrel's endpoints: ASPNETCORE_URLS or the Kestrel:Endpoints section",
            "1: location /x/: never reached in nginx: the server's return answers every request first",
        ], result.LeftoverLines());
    }

    [Theory]
    [InlineData("allow 10.0.0.0/8; allow 2001:db8::/32; allow 127.0.0.1; deny all;", """["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"]""")]
    [InlineData("deny all;", "[]")]
    public void AllowDeny_AsAnAllowList(string rules, string expected)
    {
        var result = _folder.Import($$"""server { root /srv; location /admin/ { {{rules}} } }""");

        result.Location("/admin/")["Allow"].Is(expected);
        result.NoLeftovers();
        result.IsValidConfiguration();
    }

    [Theory]
    [InlineData("allow 10.0.0.1;")]
    [InlineData("allow 10.0.0.1; allow all;")]
    public void AllowDeny_ThatLetsEveryoneIn_IsNoAllowList(string rules)
    {
        var result = _folder.Import($$"""server { root /srv; location /admin/ { {{rules}} } }""");

        Assert.Null(result.Location("/admin/")["Allow"]);
        result.NoLeftovers();
    }

    [Fact]
    public void AllowDeny_WithADenyFirst_IsReported_AndConvertedClosed()
    {
        var result = _folder.Import("server { root /srv; location /admin/ { deny 10.0.0.1; allow 10.0.0.0/8; deny all; } }");

        result.Location("/admin/")["Allow"].Is("[]");
        Assert.Equal(["1: deny 10.0.0.1: only allow rules followed by deny all carry over (Allow): this location denies everyone here; list only who may come in"],
            result.LeftoverLines());
    }

    [Theory]
    [InlineData("allow 10.0.0.0/8; deny 192.168.1.5; deny all;", """["10.0.0.0/8"]""")]
    [InlineData("deny 192.168.1.5;", "[]")]
    public void AllowDeny_DeadDeniesAfterTheLastAllow_AndADenyListWithoutDenyAll(string rules, string expected)
    {
        var result = _folder.Import($$"""server { root /srv; location /admin/ { {{rules}} } }""");

        result.Location("/admin/")["Allow"].Is(expected);
    }

    [Fact]
    public void LimitReq_WithItsZone_DelayedUnlessNodelay()
    {
        var result = _folder.Import("""
            http {
                limit_req_zone $binary_remote_addr zone=ip:10m rate=10r/s;
                limit_req_zone $http_x_api_key zone=key:10m rate=30r/m;
                limit_req_status 429;
                server {
                    root /srv;
                    location /login { limit_req zone=ip burst=5; }
                    location /api/ { limit_req zone=key burst=20 nodelay; }
                    location /once/ { limit_req zone=key; }
                }
            }
            """);

        result.Location("/login")["RateLimit"].Is("""{ "Rate": "10r/s", "Burst": 5, "Delay": true }""");
        result.Location("/api/")["RateLimit"].Is("""{ "Rate": "30r/m", "Burst": 20, "Key": "$http_x_api_key" }""");
        Assert.Equal(["3: limit_req_zone $http_x_api_key zone=key:10m rate=30r/m: the zone key is shared by 2 locations (lines 8, 9): one limit across them in nginx, one per location here"],
            result.LeftoverLines());
        result.IsValidConfiguration();
    }

    [Fact]
    public void LimitReq_WithNginxsDefaultStatus_OrDelayN_IsReported()
    {
        var result = _folder.Import("""
            http {
                limit_req_zone $binary_remote_addr zone=ip:10m rate=1r/s;
                server { root /srv; location /a/ { limit_req zone=ip; } location /b/ { limit_req zone=ip burst=9 delay=4; } }
            }
            """);

        Assert.Equal(
        [
            "3: limit_req zone=ip: nginx rejects with 503 unless limit_req_status says otherwise; RateLimit answers 429 with Retry-After",
            "3: limit_req zone=ip burst=9 delay=4: delay=N (serve the first N at once, delay the rest) is not built; RateLimit either delays all the excess (Delay) or none",
        ], result.LeftoverLines());
        Assert.Null(result.Location("/b/")["RateLimit"]);
    }

    [Fact]
    public void Gzip_ClientMaxBodySize_AccessLogOff_Internal()
    {
        var result = _folder.Import("""
            http {
                gzip on;
                gzip_types text/css application/json;
                gzip_min_length 1k;
                client_max_body_size 50m;
                access_log /var/log/app/access.log combined;
                server {
                    root /srv;
                    location /upload/ { client_max_body_size 0; proxy_pass http://127.0.0.1:5001; }
                    location /quiet/ { access_log off; gzip off; }
                    location /protected/ { internal; alias /srv/private/; }
                }
            }
            """);

        result.Section()["AccessLog"].Is("""{ "Path": "/var/log/app/access.log" }""");
        var upload = result.Location("/upload/");
        Assert.Equal(0, (long?)upload["MaxBodySize"]);
        upload["Compress"].Is("""{ "Types": ["text/html", "text/css", "application/json"], "MinLength": 1024 }""");
        var quiet = result.Location("/quiet/");
        Assert.False((bool?)quiet["AccessLog"]);
        Assert.Null(quiet["Compress"]);
        Assert.Equal(52428800, (long?)quiet["MaxBodySize"]);
        Assert.True((bool?)result.Location("/protected/")["Internal"]);
        result.NoLeftovers();
        result.IsValidConfiguration();
    }

    [Fact]
    public void NestedLocations_BecomeLocations_ARegexKeepingItsParentsPrefix()
    {
        var result = _folder.Import("""
            server {
                root /srv;
                location /app/ {
                    add_header X-App 1;
                    location /app/static/ { expires 7d; }
                    location ~* \.json$ { return 403; }
                }
            }
            """);

        Assert.Equal(["/app/", "/app/static/", "/", "~* ^(?=(?-i:/app/))[\\s\\S]*?(?:\\.json$)"],
            result.Locations().Select(l => (string?)l!["Match"]));
        result.Location("/app/static/")["Headers"].Is("""{ "X-App": "1" }""");
        result.IsValidConfiguration();
    }

    [Fact]
    public void NestedRegexes_GoBeforeTheServers_UnderTheirParentOnly_AndUnderACaretParentToo()
    {
        // nginx tries /uploads/'s nested regex before the server's when /uploads/ is the longest prefix (an uploaded
        // script is refused, not run), not under a longer prefix of the server's, and even under ^~.
        var result = _folder.Import("""
            server {
                root /srv;
                location ~ \.php$ { proxy_pass http://127.0.0.1:9000; }
                location /uploads/ { location ~ \.php$ { deny all; } }
                location /uploads/public/ { }
                location ^~ /blog/ { location ~ \.php$ { proxy_pass http://127.0.0.1:9001; } }
            }
            """);

        Assert.Equal(
        [
            "~ ^(?=(?-i:/uploads/))(?!(?-i:/uploads/public/))[\\s\\S]*?(?:\\.php$)",
            "~ ^(?=(?-i:/blog/))[\\s\\S]*?(?:\\.php$)",
            "~ ^(?!(?-i:/blog/))[\\s\\S]*?(?:\\.php$)",
            "/uploads/", "/uploads/public/", "/blog/", "/",
        ], result.Locations().Select(l => (string?)l!["Match"]));
        result.IsValidConfiguration();
    }

    [Fact]
    public void ARequestNoLocationMatches_IsServedFromTheServersRoot_AsInNginx()
    {
        var result = _folder.Import("server { root /srv/site; add_header X-A a; location /api/ { proxy_pass http://127.0.0.1:5001; } }");

        result.Location("/").Is("""{ "Match": "/", "Static": { "Root": "/srv/site", "Precompressed": false }, "Headers": { "X-A": "a" } }""");
    }

    [Fact]
    public void WhatHasNoEquivalent_IsReportedWithItsFileLineAndWhy()
    {
        var included = _folder.Write("snippets/legacy.conf", "rewrite ^/old/(.*)$ /new/$1 permanent;\nerror_page 404 /404.html;\n");
        var result = _folder.Import($$"""
            worker_processes auto;
            events { worker_connections 1024; }
            http {
                sendfile on;
                include mime.types;
                map $http_upgrade $connection_upgrade { default upgrade; }
                server {
                    listen 443 ssl;
                    ssl_certificate /etc/ssl/site.pem;
                    root /srv;
                    include snippets/legacy.conf;
                    location / { proxy_pass http://127.0.0.1:5001; proxy_set_header X-Custom $connection_upgrade; }
                    location /x { root /srv/$host; }
                }
            }
            """);

        Assert.Equal(
        [
            "6: map $http_upgrade $connection_upgrade: no scripting; put the logic in the app",
            "8: listen 443 ssl: Kestrel's endpoints: ASPNETCORE_URLS or the Kestrel:Endpoints section",
            "9: ssl_certificate /etc/ssl/site.pem: TLS is Kestrel's: a certificate in Kestrel:Endpoints",
            $"{included}:1: rewrite ^/old/(.*)$ /new/$1 permanent: internal URI rewriting is out of scope; redirect with Return (and regex captures), or route with Match",
            $"{included}:2: error_page 404 /404.html: use ASP.NET Core's UseStatusCodePages before UseProductionServing()",
            "12: proxy_set_header X-Custom $connection_upgrade: $connection_upgrade has no equivalent; the variables are $scheme $host $request_uri $uri $args $request_method $remote_addr $request_id $http_NAME $cookie_NAME $1-$9",
            "13: root /srv/$host: variables in root or alias are not built; name the folder",
        ], result.Leftovers.Select(l => (l.Position.File == System.IO.Path.Combine(_folder.Path, "nginx.conf") ? "" : l.Position.File + ":") + $"{l.Position.Line}: {l.Directive}: {l.Reason}"));
    }

    [Fact]
    public void AFileOfServerBlocks_KeepsItsTopLevelUpstreamsAndZones()
    {
        var result = _folder.Import("""
            upstream backend { server 127.0.0.1:5001; }
            limit_req_zone $binary_remote_addr zone=z:1m rate=5r/s;
            limit_req_status 429;
            server { location / { proxy_pass http://Backend; limit_req zone=z; } }
            """);

        result.Section()["Upstreams"].Is("""{ "backend": { "Servers": [ { "Address": "http://127.0.0.1:5001" } ] } }""");
        result.Location("/")["RateLimit"].Is("""{ "Rate": "5r/s" }""");
        result.NoLeftovers();
        result.IsValidConfiguration();
    }

    [Fact]
    public void AHandlerInsideIf_KeepsTheLocationAnswering502()
    {
        var result = _folder.Import("""server { root /srv; location ~ \.php$ { if (-f $request_filename) { fastcgi_pass unix:/run/php.sock; } } }""");

        result.Location("~ \\.php$")["Return"].Is("""{ "Status": 502 }""");
        Assert.Contains(result.LeftoverLines(), line => line.Contains("fastcgi_pass unix:/run/php.sock: fastcgi_pass inside an if", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("try_files $uri \"\";")]
    [InlineData("try_files =404;")]
    [InlineData("try_files $uri =abc;")]
    public void ATryFilesTheLibraryCannotRead_IsReported(string tryFiles)
    {
        var result = _folder.Import($$"""server { root /srv; location / { {{tryFiles}} } }""");

        Assert.Null(result.Location("/")["Static"]!["TryFiles"]);
        Assert.Contains(result.LeftoverLines(), line => line.EndsWith("not a try_files the library reads: candidates, then a last =CODE, @name or path", StringComparison.Ordinal));
        result.IsValidConfiguration();
    }

    [Fact]
    public void ADotFolderLocation_ServesItsHiddenFiles_AndAPrefixWithoutSlashIsReported()
    {
        var result = _folder.Import("server { root /srv; location ^~ /.well-known/acme-challenge/ { } location api { } }");

        Assert.True((bool?)result.Location("^~ /.well-known/acme-challenge/")["Static"]!["AllowHiddenFiles"]);
        Assert.Equal(["1: location api: not carried over: a location here is [=|^~] /path or ~ / ~* with a regex"], result.LeftoverLines());
    }

    [Fact]
    public void TheNamedAppLocationsOwnDirectives_AreReported()
    {
        var result = _folder.Import("""
            server {
                root /srv;
                location / { try_files $uri @app; }
                location @app { allow 10.0.0.0/8; deny all; proxy_pass http://127.0.0.1:5000; proxy_set_header X-Real-IP $remote_addr; }
            }
            """, app: "127.0.0.1:5000");

        Assert.Equal(
        [
            "4: allow 10.0.0.0/8: @app runs the app under the directives of the location that falls back to it; the named location's own are not carried over",
            "4: deny all: @app runs the app under the directives of the location that falls back to it; the named location's own are not carried over",
        ], result.LeftoverLines());
    }

    [Fact]
    public void ARootRelativeToNginxsPrefix_OrNoneAtAll_IsReported()
    {
        var result = _folder.Import("server { location / { } location /docs/ { root html; } }");

        Assert.Equal("html", (string?)result.Location("/")["Static"]!["Root"]);
        Assert.Equal(
        [
            "1: location /: no root in force: nginx serves its default 'html' under its prefix; set Root to that folder",
            "1: root html: 'html' is relative to nginx's prefix there and to the app's content root here; check the folder",
        ], result.LeftoverLines());
    }
}
