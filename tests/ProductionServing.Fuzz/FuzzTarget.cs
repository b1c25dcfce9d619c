using System.Text;

namespace ProductionServing.Fuzz;

/// <summary>The targets by name, how an input becomes a path, and the replay of saved inputs.</summary>
internal static class FuzzTarget
{
    /// <summary>
    /// Longer inputs add nothing the pooled-buffer branch (paths over 170 chars) does not already cover,
    /// and only slow every execution down.
    /// </summary>
    private const int MaxInputBytes = 4096;

    /// <summary>Invalid UTF-8 becomes U+FFFD, so every input is some string, as a decoded request path always is.</summary>
    private static readonly UTF8Encoding Lenient = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public static IReadOnlyList<string> Names { get; } = ["path", "map"];

    public static Action<string>? Find(string name) => name switch
    {
        "path" => PathTarget.Run,
        "map" => MapTarget.Run,
        _ => null,
    };

    public static string ReadInput(Stream stream)
    {
        var buffer = new byte[MaxInputBytes];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
        }

        return Lenient.GetString(buffer, 0, length);
    }

    /// <summary>Runs the target on each file and prints what failed; exit code 1 when any did.</summary>
    public static int Replay(Action<string> target, ReadOnlySpan<string> files)
    {
        var failed = 0;
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            var input = ReadInput(stream);
            try
            {
                target(input);
                Console.WriteLine("ok    " + file);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Replay reports every input instead of stopping at the first failure.
                failed++;
                Console.WriteLine("FAIL  " + file + "  input " + Escape(input));
                Console.WriteLine(ex.ToString());
            }
        }

        return failed == 0 ? 0 : 1;
    }

    /// <summary>The input as a C# literal body, so a crash can be pasted into a unit test.</summary>
    public static string Escape(string input)
    {
        var text = new StringBuilder(input.Length + 2).Append('"');
        foreach (var c in input)
        {
            _ = c is < ' ' or > '~' or '"' or '\\'
                ? text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture))
                : text.Append(c);
        }

        return text.Append('"').ToString();
    }
}
