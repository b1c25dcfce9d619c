namespace ProductionServing.Static;

/// <summary>What a <see cref="FileLookup"/> is made of: two locations (or two configurations) with equal keys can share one.</summary>
/// <param name="Folder">The folder (Root) or the folder or file (Alias), as a full path.</param>
/// <param name="AliasPrefix">For Alias, the location prefix the folder replaces; null for Root.</param>
/// <param name="AllowHiddenFiles">Whether dot-files are served.</param>
/// <param name="Precompressed">Whether <c>.br</c> and <c>.gz</c> sidecars are looked for.</param>
/// <param name="DefaultContentType">The type of files whose extension has none.</param>
/// <param name="MaxCachedFileSize">Files up to this size have their contents cached.</param>
/// <param name="Compress">
/// The location's <c>Compress</c> (compared by value), or null: the cache of a location that compresses holds
/// compressed copies, which a location without it, or with other types or lengths, must not serve.
/// </param>
internal readonly record struct FileLookupKey(string Folder, string? AliasPrefix, bool AllowHiddenFiles, bool Precompressed,
    string DefaultContentType, int MaxCachedFileSize, Directives.CompressPolicy? Compress);
