using System.Runtime.InteropServices;
using System.Text;

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
internal readonly partial record struct ProcessResources(int FileDescriptors, int Sockets, int Threads)
{
    /// <summary>Threads the runtime starts and ends on its own, by their comm prefix.</summary>
    private static readonly byte[][] RuntimeManagedThreads = [".NET TP "u8.ToArray(), ".NET Tiered Com"u8.ToArray(), ".NET BGC"u8.ToArray()];

    /// <summary>
    /// Counts, allocating little (a few KiB: the names of the entries listed), since tests call it in a
    /// polling loop while the GC is held off: each link and name is read into a stack buffer.
    /// </summary>
    public static ProcessResources Count()
    {
        Span<byte> target = stackalloc byte[512];
        var descriptors = 0;
        var sockets = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            var length = ReadLink(fd, target);
            if (length < 0 || IsAssembly(target[..length]))
            {
                continue; // closed since it was listed (the enumeration's own descriptor, or another thread's)
            }

            descriptors++;
            if (target[..length].StartsWith("socket:["u8))
            {
                sockets++;
            }
        }

        var threads = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (ReadComm(task, target) is >= 0 and var length && !IsRuntimeManaged(target[..length]))
            {
                threads++;
            }
        }

        return new ProcessResources(descriptors, sockets, threads);
    }

    /// <summary>Whether every count is at most <paramref name="baseline"/>'s plus <paramref name="slack"/>.</summary>
    public bool IsWithin(ProcessResources baseline, int slack) =>
        FileDescriptors <= baseline.FileDescriptors + slack && Sockets <= baseline.Sockets + slack && Threads <= baseline.Threads + slack;

    /// <summary>The name (comm) of every counted thread, for a failure message.</summary>
    public static string DescribeThreads()
    {
        Span<byte> name = stackalloc byte[64];
        var names = new List<string>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (ReadComm(task, name) is >= 0 and var length && !IsRuntimeManaged(name[..length]))
            {
                names.Add(Encoding.UTF8.GetString(name[..length]));
            }
        }

        names.Sort(StringComparer.Ordinal);
        return string.Join(", ", names);
    }

    /// <summary>What the counted descriptors are (a kind with its count: sockets, pipes, a file's path), for a failure message.</summary>
    public static string DescribeDescriptors()
    {
        Span<byte> target = stackalloc byte[512];
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (ReadLink(fd, target) is >= 0 and var length && !IsAssembly(target[..length]))
            {
                var text = Encoding.UTF8.GetString(target[..length]);
                var kind = text.IndexOf(":[", StringComparison.Ordinal) is > 0 and var at ? text[..at] : text;
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }
        }

        return string.Join(", ", kinds.Select(static k => $"{k.Key} x{k.Value}"));
    }

    public override string ToString() => $"{FileDescriptors} fds, {Sockets} sockets, {Threads} threads";

    /// <summary>
    /// An assembly the runtime opened when it was first loaded (lazily, by the first call into it, which a
    /// fault's error path may be), or its symbols, opened for the first stack trace with line numbers (an
    /// exception logged): the runtime keeps both open for the life of the process, so they are not leaks.
    /// </summary>
    private static bool IsAssembly(ReadOnlySpan<byte> target) => target.EndsWith(".dll"u8) || target.EndsWith(".pdb"u8);

    private static bool IsRuntimeManaged(ReadOnlySpan<byte> name)
    {
        foreach (var prefix in RuntimeManagedThreads)
        {
            if (name.StartsWith(prefix))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What the link <paramref name="path"/> points to (readlink(2)), in <paramref name="buffer"/>; its length, or -1 when it is gone.</summary>
    private static unsafe int ReadLink(string path, Span<byte> buffer)
    {
        fixed (byte* bytes = buffer)
        {
            return (int)ReadLink(path, bytes, buffer.Length);
        }
    }

    /// <summary>The thread's name from <c>/proc/self/task/TID/comm</c>, in <paramref name="buffer"/>; its length, or -1 when the thread ended.</summary>
    private static int ReadComm(string task, Span<byte> buffer)
    {
        try
        {
            using var comm = File.OpenHandle(Path.Join(task, "comm"));
            var length = RandomAccess.Read(comm, buffer, 0);
            return length > 0 && buffer[length - 1] == (byte)'\n' ? length - 1 : length;
        }
        catch (IOException)
        {
            return -1; // the thread ended since it was listed
        }
    }

    [LibraryImport("libc", EntryPoint = "readlink", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint ReadLink(string path, byte* buffer, nint size);
}
