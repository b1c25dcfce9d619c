namespace ProductionServing.Diagnostics;

/// <summary>Where access-log lines go: the log category (<see cref="AccessLogLoggerSink"/>) or a file (<see cref="AccessLogFile"/>).</summary>
internal abstract class AccessLogSink
{
    /// <summary>Whether lines are wanted at all: when not, the line is not even formatted.</summary>
    public virtual bool IsEnabled => true;

    /// <summary>Takes one line (UTF-8, without its newline); must never block the request that ends.</summary>
    /// <param name="line">The line; the sink copies what it keeps.</param>
    public abstract void Write(ReadOnlySpan<byte> line);
}
