using System.Text.Json.Nodes;
using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>A regex location nested in a prefix location: what it became, its parent's pattern and its own.</summary>
internal sealed record NestedRegex(JsonObject Location, LocationConverter.Pattern Parent, LocationConverter.Pattern Pattern, NginxDirective Directive);
