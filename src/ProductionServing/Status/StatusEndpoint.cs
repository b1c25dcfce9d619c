using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using ProductionServing.Configuration;
using ProductionServing.Directives;
using ProductionServing.Routing;

namespace ProductionServing.Status;

/// <summary>
/// The compiled <c>Status</c> option: <c>&lt;Path&gt;</c> and <c>&lt;Path&gt;/</c> (the page),
/// <c>&lt;Path&gt;/status.json</c> and <c>&lt;Path&gt;/match</c>, matched before every location, for the
/// clients <c>Allow</c> lists. To anyone else they do not exist: the request goes on to the locations,
/// as any other path would, and gets whatever that path gets there (usually 404).
/// </summary>
internal sealed class StatusEndpoint
{
    private const string JsonPath = "/status.json";
    private const string MatchPath = "/match";

    private static readonly StringValues NoStore = "no-store";
    private static readonly StringValues JsonType = "application/json; charset=utf-8";
    private static readonly StringValues NoSniff = "nosniff";
    private const string ReferrerPolicy = "Referrer-Policy";
    private static readonly StringValues NoReferrer = "no-referrer";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };

    public StatusEndpoint(string path, ClientNetworks allow)
    {
        Path = path;
        Allow = allow;
    }

    /// <summary>The page's path, without a trailing '/'.</summary>
    public string Path { get; }

    public ClientNetworks Allow { get; }

    private enum Resource
    {
        None,
        Page,
        Json,
        Match,
    }

    /// <summary>Whether <paramref name="path"/> (normalized) is one of the status page's paths.</summary>
    public bool Owns(string path) => Find(path) != Resource.None;

    /// <summary>
    /// Answers <paramref name="path"/> when it is one of the status page's: the page for a client
    /// <see cref="Allow"/> lists, 404 for anyone else; otherwise returns false and the request goes on to
    /// the locations.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="path">Its normalized path.</param>
    /// <param name="snapshot">The configuration in force.</param>
    /// <param name="monitor">The live figures.</param>
    /// <param name="answer">The response's task.</param>
    /// <returns>Whether the status page answered.</returns>
    public bool TryServe(HttpContext context, string path, ServingSnapshot snapshot, StatusMonitor monitor, out Task answer)
    {
        answer = Task.CompletedTask;
        var resource = Find(path);
        if (resource == Resource.None)
        {
            return false;
        }

        // docs/observability.md, "Status page": anyone outside Allow gets 404, as if the page did not exist: the answer an unknown
        // file gets, whatever the locations behind would have done with the path.
        if (!Allow.Contains(context.Connection.RemoteIpAddress))
        {
            answer = ErrorResponse.Answer(context, ServingError.FileNotFound);
            return true;
        }

        var method = context.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            answer = ErrorResponse.Answer(context, ServingError.MethodNotAllowed);
            return true;
        }

        answer = resource switch
        {
            Resource.Page => SendAsync(context, StatusPage.ContentType, StatusPage.Bytes, StatusCodes.Status200OK),
            Resource.Json => SendJsonAsync(context, StatusCodes.Status200OK,
                (json, state) => StatusDocument.Write(json, state.Snapshot, state.Endpoint, state.Monitor), (Snapshot: snapshot, Endpoint: this, Monitor: monitor)),
            _ => AnswerMatchAsync(context, snapshot, monitor),
        };
        return true;
    }

    private Resource Find(string path)
    {
        if (!path.StartsWith(Path, StringComparison.Ordinal))
        {
            return Resource.None;
        }

        var rest = path.AsSpan(Path.Length);
        return rest is "" or "/" ? Resource.Page
            : rest.SequenceEqual(JsonPath) ? Resource.Json
            : rest.SequenceEqual(MatchPath) ? Resource.Match
            : Resource.None;
    }

    private Task AnswerMatchAsync(HttpContext context, ServingSnapshot snapshot, StatusMonitor monitor)
    {
        var asked = context.Request.Query["path"].ToString();

        // The path as a client would send it in a request line: percent-encoded, with or without a query.
        var part = RequestPath.PathPart(asked);
        if (part.IsEmpty)
        {
            return SendError(context, asked.Length == 0
                ? "give the path to explain: match?path=/some/url"
                : "the path must start with '/' (or be an http URL)");
        }

        if (!RequestPath.TryNormalize(part, out var normalized))
        {
            return SendError(context, "the path is malformed (a bad %-escape, a control character or a backslash) or climbs above '/': a client's request for it gets 400");
        }

        return SendJsonAsync(context, StatusCodes.Status200OK,
            (json, state) => MatchDocument.Write(json, state.Asked, state.Normalized, state.Snapshot, state.Endpoint, state.Monitor),
            (Asked: asked, Normalized: normalized, Snapshot: snapshot, Endpoint: this, Monitor: monitor));
    }

    private static Task SendError(HttpContext context, string reason) =>
        SendJsonAsync(context, StatusCodes.Status400BadRequest, static (json, reason) =>
        {
            json.WriteStartObject();
            json.WriteString("error", reason);
            json.WriteEndObject();
        }, reason);

    private static Task SendJsonAsync<TState>(HttpContext context, int statusCode, Action<Utf8JsonWriter, TState> write, TState state)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(json, state);
        }

        return SendAsync(context, JsonType, buffer.WrittenMemory, statusCode);
    }

    private static Task SendAsync(HttpContext context, StringValues contentType, ReadOnlyMemory<byte> body, int statusCode)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        var headers = response.Headers;
        headers.ContentType = contentType;
        headers.CacheControl = NoStore;
        headers.ContentSecurityPolicy = StatusPage.ContentSecurityPolicy;
        headers.XContentTypeOptions = NoSniff;
        headers[ReferrerPolicy] = NoReferrer;
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
