using System.Text.Json.Nodes;

namespace ProductionServing.Import.Conversion;

/// <summary>What the importer made of a configuration.</summary>
/// <param name="Document">The appsettings document: <c>{ "ProductionServing": { … } }</c>.</param>
/// <param name="Leftovers">What was not carried over, in the order of the configuration.</param>
/// <param name="Server">The <c>server_name</c>s of the block converted, for the summary.</param>
internal sealed record ImportResult(JsonObject Document, IReadOnlyList<Leftover> Leftovers, IReadOnlyList<string> Server);
