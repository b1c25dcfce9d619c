namespace ProductionServing.Static;

/// <summary>What a request path names under a static location's folder.</summary>
internal enum FileKind
{
    /// <summary>Nothing, or something that must not be served (hidden, outside the root).</summary>
    Missing,

    File,

    Directory,
}
