using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ProductionServing.Configuration;
using ProductionServing.Diagnostics;
using ProductionServing.Routing;

namespace ProductionServing.Static;

/// <summary>
/// A <c>Static</c> location: methods, files, folders (trailing-slash redirect, index files, listings)
/// and <c>try_files</c>, with the response itself written by <see cref="StaticFileSender"/>.
/// </summary>
internal sealed class StaticHandler : LocationHandler
{
    private readonly string[] _index;
    private readonly bool _autoIndex;
    private readonly bool _allowHidden;
    private readonly TryFilesPlan? _tryFiles;
    private readonly StaticFileSender _sender;

    /// <param name="options">The location's settings.</param>
    /// <param name="files">The location's files and their cache.</param>
    /// <param name="logger">For transfer problems.</param>
    /// <param name="metrics">Cache hits and bytes sent.</param>
    /// <param name="location">The location's <c>Match</c> (null for the configuration-free web root).</param>
    public StaticHandler(StaticOptions options, FileLookup files, ILogger logger, ServingMetrics metrics, string? location)
    {
        Files = files;
        _index = files.IndexNames(options.Index);
        _autoIndex = options.AutoIndex;
        _allowHidden = options.AllowHiddenFiles;
        _tryFiles = TryFilesPlan.Compile(options.TryFiles);
        _sender = new StaticFileSender(files, options.CacheControl, options.MaxRanges, logger, metrics, location);
    }

    public override ServingHandler Kind => ServingHandler.Static;

    public FileLookup Files { get; }

    /// <summary>The location's <c>Index</c> names, in order.</summary>
    public IReadOnlyList<string> IndexNames => _index;

    /// <summary>Whether a folder without an index file gets a listing.</summary>
    public bool AutoIndex => _autoIndex;

    /// <summary>The location's <c>try_files</c>, or null.</summary>
    public TryFilesPlan? TryFiles => _tryFiles;

    public override Task HandleAsync(ServingRequest request)
    {
        var context = request.Context;
        var method = context.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            return _tryFiles is { FallbackToApp: true }
                ? request.Flow.FallBackToAppAsync(request)
                : ErrorResponse.Answer(context, ServingError.MethodNotAllowed);
        }

        if (_tryFiles is not null)
        {
            return TryFilesAsync(request, _tryFiles);
        }

        var path = request.Path;
        return Files.Find(path, out var entry) switch
        {
            FileKind.File => _sender.SendAsync(context, path, entry!),
            FileKind.Directory => ServeDirectoryAsync(request, path),
            _ => ErrorResponse.Answer(context, ServingError.FileNotFound),
        };
    }

    private Task TryFilesAsync(in ServingRequest request, TryFilesPlan plan)
    {
        var context = request.Context;
        var path = request.Path;
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
                return _sender.SendAsync(context, candidate, entry!);
            }

            if (kind == FileKind.Directory && wantsFolder)
            {
                return ServeDirectoryAsync(request, candidate);
            }
        }

        if (plan.FallbackToApp)
        {
            return request.Flow.FallBackToAppAsync(request);
        }

        if (plan.FallbackStatus != 0)
        {
            if (plan.FallbackStatus < StatusCodes.Status400BadRequest)
            {
                // nginx answers "=204" and the like with the bare status.
                context.Response.StatusCode = plan.FallbackStatus;
                return Task.CompletedTask;
            }

            return ErrorResponse.Answer(context, ServingError.TryFilesStatus, plan.FallbackStatus);
        }

        // A path: an internal redirect, whose query (if the entry has one) replaces the request's, as in
        // nginx, where "try_files $uri /index.php?$args" is how the query is kept (an empty one is none).
        var query = context.Request.QueryString.Value;
        var target = TryFilesPlan.ExpandFallback(plan.FallbackUri!, path, string.IsNullOrEmpty(query) ? "" : query[1..]);
        var question = target.IndexOf('?', StringComparison.Ordinal);
        return RequestPath.TryNormalizeDecoded(question < 0 ? target : target.AsSpan(0, question), out var redirect)
            ? request.Flow.RedirectAsync(request, redirect, question < 0 || question == target.Length - 1 ? "" : target[question..], handedOff: false)
            : ErrorResponse.Answer(context, ServingError.FileNotFound);
    }

    private Task ServeDirectoryAsync(in ServingRequest request, string path)
    {
        var context = request.Context;
        if (!path.EndsWith('/'))
        {
            // nginx answers a folder without its trailing slash with 301 to the slash form, so that
            // relative links in its index page resolve inside it.
            var http = context.Request;
            context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
            context.Response.Headers.Location = (http.PathBase + new PathString(path + "/")).ToUriComponent() + http.QueryString.ToUriComponent();
            return Task.CompletedTask;
        }

        if (Files.FindIndex(path, _index, out var index, out var entry))
        {
            // nginx's index module redirects internally to the index file's path, which may select another
            // location: index.php, which a regex location forwards, must not be sent as a file from this one.
            return request.Flow.RedirectToIndexElsewhere(request, index) ?? _sender.SendAsync(context, index, entry);
        }

        if (_autoIndex && Files.TryMap(path, out var folder))
        {
            return AutoIndexPage.WriteAsync(context, folder, path, _allowHidden, Files);
        }

        // nginx: a folder with neither an index file nor autoindex is forbidden.
        return ErrorResponse.Answer(context, ServingError.DirectoryListingDenied);
    }
}
