namespace ProductionServing;

/// <summary>
/// Static file serving for a location (nginx <c>root</c>, <c>alias</c>, <c>index</c>,
/// <c>autoindex</c>, <c>try_files</c>).
/// </summary>
public sealed class StaticOptions
{
    /// <summary>
    /// The folder the full request path is appended to (nginx <c>root</c>). A relative path is
    /// relative to the app's content root. Default: <see langword="null"/>, meaning the app's web
    /// root (<c>wwwroot</c>) when <see cref="Alias"/> is not set either. Cannot be combined with
    /// <see cref="Alias"/>.
    /// </summary>
    public string? Root { get; set; }

    /// <summary>
    /// The folder that replaces the matched location prefix (nginx <c>alias</c>); for exact and
    /// prefix locations only. A relative path is relative to the content root. Default:
    /// <see langword="null"/>. Cannot be combined with <see cref="Root"/>.
    /// </summary>
    public string? Alias { get; set; }

    /// <summary>
    /// File names tried, in order, when a directory is requested. Default: <c>["index.html"]</c>; an
    /// empty list turns index files off.
    /// </summary>
    /// <remarks>
    /// A list in JSON replaces the default (JSON <c>null</c> keeps it); in code, <c>Add</c> appends to it,
    /// so <c>Clear</c> first or assign a new list to replace it.
    /// </remarks>
    public IList<string> Index { get; set; } = new List<string> { "index.html" };

    /// <summary>
    /// When <see langword="true"/>, a directory without an index file is answered with an HTML
    /// listing of its entries. Default: <see langword="false"/>.
    /// </summary>
    public bool AutoIndex { get; set; }

    /// <summary>
    /// nginx <c>try_files</c>: candidates checked in order (<c>$uri</c>, <c>$uri/</c>, or a path
    /// starting with <c>/</c> that may contain <c>$uri</c>); the last entry is the fallback:
    /// <c>=CODE</c> (answer with that status), <c>@app</c> (hand the request to the app through the
    /// <c>default</c> pool) or a path (served by the location it matches). Default: empty, meaning
    /// a missing file is 404.
    /// </summary>
    public IList<string> TryFiles { get; set; } = new List<string>();

    /// <summary>
    /// The <c>Content-Type</c> of files whose extension the framework does not know. Default:
    /// <c>application/octet-stream</c>.
    /// </summary>
    public string DefaultContentType { get; set; } = "application/octet-stream";

    /// <summary>
    /// When <see langword="true"/>, <c>x.br</c> and <c>x.gz</c> beside <c>x</c> are sent to clients
    /// that accept them. Default: <see langword="true"/>.
    /// </summary>
    public bool Precompressed { get; set; } = true;

    /// <summary>
    /// The <c>Cache-Control</c> header value sent verbatim with every file of this location.
    /// Default: <see langword="null"/> (no header).
    /// </summary>
    public string? CacheControl { get; set; }

    /// <summary>
    /// The most byte ranges one request may ask for; more (or overlapping ranges) are answered
    /// with the whole file (200). Default: 16.
    /// </summary>
    public int MaxRanges { get; set; } = 16;

    /// <summary>
    /// When <see langword="true"/>, files and folders whose name starts with a dot (<c>.git</c>,
    /// <c>.env</c>) are served. Default: <see langword="false"/> (they are 404).
    /// </summary>
    public bool AllowHiddenFiles { get; set; }
}
