using System.Text;
using Microsoft.Extensions.Logging;

namespace ProductionServing.Diagnostics;

/// <summary>
/// Lines logged at Information on the category <see cref="AccessLog.Category"/> (event 5101, the line as
/// its <c>Line</c> field): the host's logging providers decide where they go and how.
/// </summary>
internal sealed class AccessLogLoggerSink(ILogger logger) : AccessLogSink
{
    public override bool IsEnabled => logger.IsEnabled(LogLevel.Information);

    public override void Write(ReadOnlySpan<byte> line)
    {
        // The line was formatted only because IsEnabled said so.
        var text = Encoding.UTF8.GetString(line);
        DiagnosticsLog.AccessLogLine(logger, text);
    }
}
