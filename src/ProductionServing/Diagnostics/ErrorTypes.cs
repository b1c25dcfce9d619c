namespace ProductionServing.Diagnostics;

/// <summary>
/// The one <c>error.type</c> vocabulary of metrics, logs, the access log, the status page and
/// <see cref="ServingErrorFeature.ErrorType"/>: a short snake_case name for each reason a request failed
/// (docs/observability.md, "Why a request failed", lists them). OpenTelemetry's <c>error.type</c> attribute takes
/// "a low-cardinality string describing the class of error"; these are ours, one per cause the code tells
/// apart, so a dashboard can split 502s into refused connections, resets and invalid responses.
/// </summary>
internal static class ErrorTypes
{
    /// <summary>The client went away before its response was complete (nginx logs such a request with 499).</summary>
    public const string ClientAborted = "client_aborted";

    /// <summary>The app threw: the request ended with an exception that reached ProductionServing.</summary>
    public const string AppException = "app_exception";

    private static readonly string[] Names = CreateNames();

    /// <summary>The <c>error.type</c> of <paramref name="error"/>.</summary>
    public static string Of(ServingError error) => (uint)error < (uint)Names.Length ? Names[(int)error] : "unknown";

    private static string[] CreateNames()
    {
        var values = Enum.GetValues<ServingError>();
        var max = 0;
        foreach (var value in values)
        {
            max = Math.Max(max, (int)value);
        }

        var names = new string[max + 1];
        Array.Fill(names, "unknown");
        foreach (var value in values)
        {
            names[(int)value] = NameOf(value);
        }

        return names;
    }

    private static string NameOf(ServingError error) => error switch
    {
        ServingError.InvalidRequestTarget => "invalid_request_target",
        ServingError.RegexTimeout => "regex_timeout",
        ServingError.InternalLocation => "internal_location",
        ServingError.FileNotFound => "not_found",
        ServingError.DirectoryListingDenied => "directory_forbidden",
        ServingError.MethodNotAllowed => "method_not_allowed",
        ServingError.TryFilesStatus => "try_files_status",
        ServingError.UnsafeRedirect => "unsafe_redirect",
        ServingError.RedirectLoop => "redirect_loop",
        ServingError.FileChanged => "file_changed",
        ServingError.InvalidRequestBody => "invalid_request_body",
        ServingError.NoLiveUpstream => "no_healthy_server",
        ServingError.UpstreamConnectFailed => "upstream_connect",
        ServingError.UpstreamConnectTimeout => "upstream_connect_timeout",
        ServingError.UpstreamReset => "upstream_reset",
        ServingError.UpstreamTimeout => "upstream_timeout",
        ServingError.UpstreamInvalidResponse => "upstream_invalid_response",
        ServingError.UpstreamRequestUnsendable => "upstream_unsendable",
        ServingError.UpstreamQueueFull => "max_conns",
        ServingError.UpstreamQueueTimeout => "max_conns_timeout",
        ServingError.UpstreamResponseAborted => "upstream_response_aborted",
        ServingError.PoolQueueFull => "queue_full",
        ServingError.PoolQueueTimeout => "queue_timeout",
        ServingError.PoolShed => "queue_shed",
        ServingError.PoolShuttingDown => "shutting_down",
        ServingError.RequestTimeout => "request_timeout",
        ServingError.RequestBodyTooLarge => "body_too_large",
        ServingError.ClientForbidden => "forbidden",
        ServingError.RateLimited => "rate_limited",
        _ => "unknown",
    };
}
