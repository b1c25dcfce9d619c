using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace ProductionServing.Directives;

/// <summary>What a <see cref="VariableTemplate"/> is expanded against: the request, its normalized path and its location's captures.</summary>
/// <param name="context">The request.</param>
/// <param name="path">The normalized path (nginx's <c>$uri</c>).</param>
/// <param name="captures">The location regex's match, when a template of the location uses its captures; otherwise null.</param>
internal readonly struct VariableScope(HttpContext context, string path, Match? captures)
{
    public HttpContext Context { get; } = context;

    public string Path { get; } = path;

    public Match? Captures { get; } = captures;
}
