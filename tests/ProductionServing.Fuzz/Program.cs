using ProductionServing.Fuzz;
using SharpFuzz;

// Usage (tests/fuzz/README.md):
//   dotnet ProductionServing.Fuzz.dll <target>                  under afl-fuzz, which feeds the inputs
//   dotnet ProductionServing.Fuzz.dll <target> <file>...        replays saved inputs (a crash afl found) without afl
// A property that does not hold throws PropertyViolationException out of the target, which afl records as a crash.
if (args.Length == 0 || FuzzTarget.Find(args[0]) is not { } target)
{
    Console.Error.WriteLine("usage: ProductionServing.Fuzz <" + string.Join('|', FuzzTarget.Names) + "> [input file...]");
    return 2;
}

if (args.Length > 1)
{
    return FuzzTarget.Replay(target, args.AsSpan(1));
}

// Out of process: SharpFuzz runs the target in a child process that it restarts when it dies, so a stack
// overflow or an input slower than afl's -t is recorded as a crash or a hang instead of ending the run.
Fuzzer.OutOfProcess.Run(stream => target(FuzzTarget.ReadInput(stream)));
return 0;
