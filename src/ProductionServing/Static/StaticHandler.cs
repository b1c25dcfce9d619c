using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using ProductionServing.Configuration;
using ProductionServing.Routing;

namespace ProductionServing.Static;

/// <summary>
/// Serves one static location (SPEC §3.2): methods, files, folders (trailing-slash redirect, index
/// files, listings) and <c>try_files</c>, handing the response itself to <see cref="StaticFileSender"/>.
/// </summary>
internal sealed class StaticHandler
{
    /// <summary>nginx's limit on internal redirects per request (NGX_HTTP_MAX_URI_CHANGES).</summary>
    internal const int MaxInternalRedirects = 10;

    private static readonly StringValues AllowGetHead = "GET, HEAD";
    private static readonly string[] DefaultIndex = ["index.html"];

    private readonly string[] _index;
    private readonly bool _autoIndex;
    private readonly bool _allowHidden;
    private readonly TryFilesPlan? _tryFiles;
    private readonly ILogger _logger;

    public StaticHandler(StaticOptions options, LocationPattern pattern, FileCacheOptions cache, ServingEnvironment environment)
    {
        var folder = options.Alias ?? options.Root ?? environment.WebRoot;
        var aliasPrefix = options.Alias is null ? null : pattern.Pattern;
        _logger = environment.LoggerFactory.CreateLogger<StaticHandler>();
        Files = new FileLookup(Path.GetFullPath(folder, environment.ContentRoot), aliasPrefix, options,
            environment.FileCacheBudget, cache.MaxFileSize, environment.Time, _logger);
        _index = options.Index is null ? DefaultIndex : [.. options.Index];
        _autoIndex = options.AutoIndex;
        _allowHidden = options.AllowHiddenFiles;
        _tryFiles = TryFilesPlan.Compile(options.TryFiles);
        CacheControl = options.CacheControl;
        MaxRanges = options.MaxRanges;
    }

    public FileLookup Files { get; }

    public StringValues CacheControl { get; }

    public int MaxRanges { get; }

    /// <summary>Serves <paramref name="path"/> (normalized) from this location.</summary>
    /// <param name="context">The request.</param>
    /// <param name="path">The normalized request path, or the target of an internal redirect.</param>
    /// <param name="snapshot">The configuration in force, for internal redirects.</param>
    /// <param name="app">The rest of the pipeline, for <c>@app</c>.</param>
    /// <param name="redirects">Internal redirects taken so far.</param>
    public Task HandleAsync(HttpContext context, string path, ServingSnapshot snapshot, RequestDelegate app, int redirects)
    {
        var method = context.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            if (_tryFiles is { FallbackToApp: true })
            {
                return app(context);
            }

            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = AllowGetHead;
            return Task.CompletedTask;
        }

        if (_tryFiles is not null)
        {
            return TryFilesAsync(context, path, snapshot, app, redirects);
        }

        return Files.Find(path, out var entry) switch
        {
            FileKind.File => StaticFileSender.SendAsync(context, path, entry!, this, _logger),
            FileKind.Directory => ServeDirectoryAsync(context, path),
            _ => Answer(context, StatusCodes.Status404NotFound),
        };
    }

    private Task TryFilesAsync(HttpContext context, string path, ServingSnapshot snapshot, RequestDelegate app, int redirects)
    {
        var plan = _tryFiles!;
        foreach (var template in plan.Candidates)
        {
            // "$uri/" (a template ending in '/') tests for a folder, anything else for a file. A folder
            // found is then served under the candidate without that slash, as nginx does: "/docs" with
            // "$uri/" gets 301 to "/docs/", and "/docs/" its index (nginx-tests http_try_files.t "dir matches dir").
            var expanded = TryFilesPlan.Expand(template, path);
            var wantsFolder = template.EndsWith('/');
            if (!RequestPath.TryNormalizeDecoded(wantsFolder && expanded.Length > 1 ? expanded.AsSpan(0, expanded.Length - 1) : expanded, out var candidate))
            {
                continue;
            }

            var kind = Files.Find(candidate, out var entry);
            if (kind == FileKind.File && !wantsFolder)
            {
                return StaticFileSender.SendAsync(context, candidate, entry!, this, _logger);
            }

            if (kind == FileKind.Directory && wantsFolder)
            {
                return ServeDirectoryAsync(context, candidate);
            }
        }

        if (plan.FallbackToApp)
        {
            return app(context);
        }

        if (plan.FallbackStatus != 0)
        {
            return Answer(context, plan.FallbackStatus);
        }

        return RequestPath.TryNormalizeDecoded(TryFilesPlan.Expand(plan.FallbackUri!, path), out var target)
            ? InternalRedirect(context, target, snapshot, app, redirects + 1, _logger)
            : Answer(context, StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// Serves <paramref name="path"/> from whichever location it matches, internal ones included (nginx's
    /// internal redirect, used by a <c>TryFiles</c> path fallback and the <c>X-Accel-Redirect</c> handoff).
    /// </summary>
    internal static Task InternalRedirect(HttpContext context, string path, ServingSnapshot snapshot, RequestDelegate app, int redirects, ILogger logger)
    {
        if (redirects > MaxInternalRedirects)
        {
            StaticLog.InternalRedirectLoop(logger, path, MaxInternalRedirects);
            return Answer(context, StatusCodes.Status500InternalServerError);
        }

        var location = snapshot.Matcher.Select(path) ?? snapshot.Unmatched;
        context.Features.Set(location.Feature);
        if (location.Static is { } handler)
        {
            return handler.HandleAsync(context, path, snapshot, app, redirects);
        }

        context.Request.Path = new PathString(path);
        return app(context);
    }

    private Task ServeDirectoryAsync(HttpContext context, string path)
    {
        if (!path.EndsWith('/'))
        {
            // nginx answers a folder without its trailing slash with 301 to the slash form, so that
            // relative links in its index page resolve inside it.
            var request = context.Request;
            context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
            context.Response.Headers.Location = (request.PathBase + new PathString(path + "/")).ToUriComponent() + request.QueryString.ToUriComponent();
            return Task.CompletedTask;
        }

        if (Files.FindIndex(path, _index, out var index, out var entry))
        {
            return StaticFileSender.SendAsync(context, index, entry, this, _logger);
        }

        if (_autoIndex && Files.TryMap(path, out var folder))
        {
            return AutoIndexPage.WriteAsync(context, folder, path, _allowHidden, Files);
        }

        // nginx: a folder with neither an index file nor autoindex is forbidden.
        return Answer(context, StatusCodes.Status403Forbidden);
    }

    private static Task Answer(HttpContext context, int statusCode)
    {
        context.Response.StatusCode = statusCode;
        return Task.CompletedTask;
    }
}
