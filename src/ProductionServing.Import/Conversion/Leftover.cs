using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import.Conversion;

/// <summary>A directive the importer did not carry over, with where it is and why.</summary>
/// <param name="Position">Where the directive is.</param>
/// <param name="Directive">The directive as written, shortened (<c>rewrite ^/old /new</c>).</param>
/// <param name="Reason">Why it is not carried over, and what to use instead.</param>
internal sealed record Leftover(SourcePosition Position, string Directive, string Reason)
{
    /// <summary>One line for standard error: <c>file:line: directive: why</c>.</summary>
    public override string ToString() => $"{Position.File}:{Position.Line}: {Directive}: {Reason}";

    /// <summary>A leftover for a directive, written as its name and arguments.</summary>
    public static Leftover Of(NginxDirective directive, string reason) => new(directive.Position, Describe(directive), reason);

    /// <summary>The directive as written, its arguments cut short.</summary>
    public static string Describe(NginxDirective directive)
    {
        var text = directive.Arguments.Count == 0 ? directive.Name : directive.Name + " " + string.Join(' ', directive.Arguments);
        return text.Length <= 60 ? text : text[..57] + "...";
    }
}
