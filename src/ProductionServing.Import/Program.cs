using System.Text.Encodings.Web;
using System.Text.Json;
using ProductionServing.Import.Conversion;
using ProductionServing.Import.NginxConfig;

namespace ProductionServing.Import;

/// <summary>
/// <c>productionserving-import</c>: reads an nginx configuration and writes the equivalent <c>ProductionServing</c>
/// section. Exit code 0 when everything was carried over, 1 when something was left out (listed on standard
/// error with its file, line and why), 2 on an error (bad arguments, an unreadable or malformed configuration).
/// </summary>
internal static class Program
{
    private const string Usage = """
        Usage: productionserving-import [--server NAME] [--app UPSTREAM] [-o FILE] nginx.conf

        Converts an nginx configuration (a whole nginx.conf with http {}, or a file with server {} blocks;
        includes resolved) into the ProductionServing section of appsettings.json.

          --server NAME    convert the server block with this server_name (default: the one with the most locations)
          --app UPSTREAM   the upstream name or host:port that is the ASP.NET Core app itself: locations that
                           forward to it become App locations (the app in-process), try_files @name to it @app
          -o, --output FILE  write the JSON to FILE instead of standard output

        Exit code: 0 everything carried over, 1 something left out (listed on standard error), 2 an error.
        """;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        // The output is a configuration file for people to read: regexes and headers as written.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Runs the importer on the console.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the importer with its output and messages on the given writers.</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter errors)
    {
        if (!TryArguments(args, out var file, out var settings, out var outputFile, out var problem))
        {
            errors.WriteLine(problem);
            errors.WriteLine();
            errors.WriteLine(Usage);
            return problem.Length == 0 ? 0 : 2;
        }

        ImportResult result;
        try
        {
            result = NginxImporter.Import(NginxConfigLoader.Load(file!), file!, settings);
        }
        catch (NginxConfigException ex)
        {
            errors.WriteLine($"productionserving-import: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException)
        {
            errors.WriteLine($"productionserving-import: {file}: {ex.Message}");
            return 2;
        }

        var json = JsonSerializer.Serialize(result.Document, Json) + Environment.NewLine;
        if (outputFile is null)
        {
            output.Write(json);
        }
        else
        {
            try
            {
                File.WriteAllText(outputFile, json);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                errors.WriteLine($"productionserving-import: cannot write {outputFile}: {ex.Message}");
                return 2;
            }
        }

        var server = result.Server.Count > 0 ? "server " + string.Join(' ', result.Server) : "the server block";
        if (result.Leftovers.Count == 0)
        {
            errors.WriteLine($"productionserving-import: converted {server} from {file}; everything was carried over.");
            return 0;
        }

        errors.WriteLine($"productionserving-import: converted {server} from {file}; not carried over ({result.Leftovers.Count}):");
        foreach (var leftover in result.Leftovers)
        {
            errors.WriteLine(leftover.ToString());
        }

        return 1;
    }

    private static bool TryArguments(string[] args, out string? file, out ImportSettings settings, out string? output, out string problem)
    {
        (file, output, problem) = (null, null, "");
        string? server = null, app = null;
        settings = new ImportSettings();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                return false;
            }

            if (arg is "--server" or "--app" or "-o" or "--output")
            {
                if (i + 1 >= args.Length)
                {
                    problem = $"productionserving-import: {arg} needs a value.";
                    return false;
                }

                var value = args[++i];
                _ = arg switch
                {
                    "--server" => server = value,
                    "--app" => app = value,
                    _ => output = value,
                };
            }
            else if (arg.StartsWith('-') && arg.Length > 1)
            {
                problem = $"productionserving-import: unknown option {arg}.";
                return false;
            }
            else if (file is null)
            {
                file = arg;
            }
            else
            {
                problem = $"productionserving-import: one configuration file at a time ({file}, then {arg}).";
                return false;
            }
        }

        if (file is null)
        {
            problem = "productionserving-import: name the nginx configuration to convert.";
            return false;
        }

        settings = new ImportSettings(server, app);
        return true;
    }
}
