namespace ProductionServing.Import.NginxConfig;

/// <summary>A configuration nginx would refuse to read, with where: the importer prints it and exits with 2.</summary>
internal sealed class NginxConfigException(SourcePosition position, string problem)
    : Exception($"{position}: {problem}")
{
    /// <summary>Where the problem is.</summary>
    public SourcePosition Position { get; } = position;

    /// <summary>What is wrong, without the place.</summary>
    public string Problem { get; } = problem;
}
