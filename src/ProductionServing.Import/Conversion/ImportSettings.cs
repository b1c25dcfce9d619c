namespace ProductionServing.Import.Conversion;

/// <summary>The importer's choices, from its command line.</summary>
/// <param name="Server">A <c>server_name</c> to convert (<c>--server</c>); null for the block with the most locations.</param>
/// <param name="App">
/// The upstream that is the ASP.NET Core app itself (<c>--app</c>): an <c>upstream</c> name or the <c>host:port</c>
/// nginx forwards to. Its locations become <c>App</c> locations (the app in-process, through the default pool),
/// and a <c>try_files</c> fallback to a named location that forwards to it becomes <c>@app</c>. Null: every
/// <c>proxy_pass</c> stays a <c>Proxy</c>.
/// </param>
internal sealed record ImportSettings(string? Server = null, string? App = null);
