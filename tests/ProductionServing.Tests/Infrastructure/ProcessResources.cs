namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// What this process holds open, read from Linux's <c>/proc/self</c> (proc(5)): file descriptors (but
/// the assemblies loaded and their symbols), the ones among them that are sockets, and threads other than those the
/// runtime starts and ends on its own.
/// </summary>
/// <remarks>
/// The thread pool grows and shrinks with load (hill climbing, blocking detection), the tiered JIT's
/// background worker comes and goes with compilation, and the GC starts its background thread at its
/// first background collection, so counting every thread would measure them. A
/// thread the code under test starts and never ends (a dedicated worker, a watcher's loop, a timer of
/// its own) is named otherwise, and those are the ones counted. The runtime names its own threads
/// ".NET …" and sets that as the kernel's comm (truncated to 15 bytes).
/// </remarks>
internal readonly record struct ProcessResources(int FileDescriptors, int Sockets, int Threads)
{
    /// <summary>Threads the runtime starts and ends on its own, by their comm prefix.</summary>
    private static readonly string[] RuntimeManagedThreads = [".NET TP ", ".NET Tiered Com", ".NET BGC"];

    public static ProcessResources Count()
    {
        var descriptors = 0;
        var sockets = 0;
        foreach (var target in DescriptorTargets())
        {
            if (IsAssembly(target))
            {
                continue;
            }

            descriptors++;
            if (target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                sockets++;
            }
        }

        return new ProcessResources(descriptors, sockets, Threads: CountThreads());
    }

    /// <summary>Whether every count is at most <paramref name="baseline"/>'s plus <paramref name="slack"/>.</summary>
    public bool IsWithin(ProcessResources baseline, int slack) =>
        FileDescriptors <= baseline.FileDescriptors + slack && Sockets <= baseline.Sockets + slack && Threads <= baseline.Threads + slack;

    /// <summary>The name (comm) of every counted thread, for a failure message.</summary>
    public static string DescribeThreads() => string.Join(", ", ThreadNames().Where(static name => !IsRuntimeManaged(name)).Order());

    /// <summary>What the counted descriptors are (a kind with its count: sockets, pipes, a file's path), for a failure message.</summary>
    public static string DescribeDescriptors()
    {
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var target in DescriptorTargets())
        {
            if (!IsAssembly(target))
            {
                var kind = target.IndexOf(":[", StringComparison.Ordinal) is > 0 and var at ? target[..at] : target;
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }
        }

        return string.Join(", ", kinds.Select(static k => $"{k.Key} x{k.Value}"));
    }

    public override string ToString() => $"{FileDescriptors} fds, {Sockets} sockets, {Threads} threads";

    /// <summary>What each open descriptor refers to: a path, or <c>socket:[inode]</c>, <c>pipe:[inode]</c>, <c>anon_inode:…</c>.</summary>
    private static List<string> DescriptorTargets()
    {
        var targets = new List<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                targets.Add(new FileInfo(fd).LinkTarget ?? "");
            }
            catch (IOException)
            {
                // Closed since it was listed (the enumeration's own descriptor, or another thread's).
            }
        }

        return targets;
    }

    /// <summary>
    /// An assembly the runtime opened when it was first loaded (lazily, by the first call into it, which a
    /// fault's error path may be), or its symbols, opened for the first stack trace with line numbers (an
    /// exception logged): the runtime keeps both open for the life of the process, so they are not leaks.
    /// </summary>
    private static bool IsAssembly(string target) =>
        target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".pdb", StringComparison.Ordinal);

    private static int CountThreads()
    {
        var count = 0;
        foreach (var name in ThreadNames())
        {
            if (!IsRuntimeManaged(name))
            {
                count++;
            }
        }

        return count;
    }

    private static IEnumerable<string> ThreadNames()
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string name;
            try
            {
                name = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
            }
            catch (IOException)
            {
                continue; // the thread ended since it was listed
            }

            yield return name;
        }
    }

    private static bool IsRuntimeManaged(string name)
    {
        foreach (var prefix in RuntimeManagedThreads)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
