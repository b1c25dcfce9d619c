namespace ProductionServing.Import.NginxConfig;

/// <summary>
/// One directive of an nginx configuration: its name, its arguments as nginx reads them (quotes removed,
/// escapes resolved, <c>$variables</c> kept as written), and its block when it has one (<c>server { … }</c>).
/// </summary>
/// <param name="Name">The directive's name (<c>location</c>, <c>proxy_pass</c>).</param>
/// <param name="Arguments">Its arguments.</param>
/// <param name="Block">The directives of its block; null for a directive that ends with <c>;</c>.</param>
/// <param name="Position">Where it starts, for the importer's messages.</param>
internal sealed record NginxDirective(string Name, IReadOnlyList<string> Arguments, IReadOnlyList<NginxDirective>? Block, SourcePosition Position);
