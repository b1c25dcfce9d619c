namespace ProductionServing.Import.NginxConfig;

/// <summary>A place in a configuration file: 1-based line and column, as editors and nginx's own messages count them.</summary>
/// <param name="File">The file as it was named.</param>
/// <param name="Line">The line.</param>
/// <param name="Column">The column, in characters.</param>
internal readonly record struct SourcePosition(string File, int Line, int Column)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}:{Column}";
}
