using System.Security.Cryptography;
using System.Text.Json;

namespace ProductionServing.Soak;

/// <summary>
/// The host's files: the static files it serves, and its configuration file, rewritten for every
/// reload with a new generation number. A generation changes only the body of
/// <c>GET /__soak/generation</c> and a response header of the static location: harmless to the load,
/// and visible to a client, so the soak can check that the reload took effect.
/// </summary>
internal static class SoakConfig
{
    /// <summary>The static files and their sizes, in bytes.</summary>
    public static readonly (string Name, int Length)[] Files = [("1k.bin", 1024), ("64k.bin", 64 * 1024), ("1m.bin", 1024 * 1024)];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void WriteFiles(Settings settings)
    {
        Directory.CreateDirectory(settings.StaticRoot);
        foreach (var (name, length) in Files)
        {
            File.WriteAllBytes(Path.Combine(settings.StaticRoot, name), RandomNumberGenerator.GetBytes(length));
        }
    }

    /// <summary>Writes the configuration of <paramref name="generation"/>, replacing the file in one rename.</summary>
    public static void Write(Settings settings, int backendPort, int generation)
    {
        var config = new
        {
            ProductionServing = new
            {
                Locations = new object[]
                {
                    new { Match = "= /__soak/gc", App = new { Pool = (string?)null } },
                    new { Match = "= /__soak/generation", Return = new { Status = 200, Body = $"generation {generation}\n" } },
                    new
                    {
                        Match = "^~ /static/",
                        Static = new { Alias = settings.StaticRoot + "/" },
                        Headers = new Dictionary<string, string> { ["X-Soak-Generation"] = $"{generation}" },
                    },
                    new { Match = "/up/", Proxy = new { Pass = "http://backend/" } },
                    new { Match = "^~ /app/", App = new { Pool = "default" } },
                    new { Match = "^~ /small/", App = new { Pool = "small" } },
                },
                Upstreams = new
                {
                    backend = new { Servers = new[] { new { Address = $"http://127.0.0.1:{backendPort}" } }, ReadTimeout = "00:00:10" },
                },
                Pools = new
                {
                    // Two dedicated threads, four places in the queue, a second of patience: the overload
                    // kind sends far more than that, so this pool answers most of it 503.
                    small = new { DedicatedThreads = true, Workers = 2, QueueLimit = 4, QueueTimeout = "00:00:01", RequestTimeout = "00:00:05" },
                },
            },
        };

        // The file watcher reloads on the rename; a rewrite in place could be read half-written.
        var temporary = settings.ConfigPath + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(config, Indented));
        File.Move(temporary, settings.ConfigPath, overwrite: true);
    }
}
