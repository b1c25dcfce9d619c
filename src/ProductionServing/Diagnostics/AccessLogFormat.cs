namespace ProductionServing.Diagnostics;

/// <summary>How the access log writes a line (<see cref="AccessLogOptions.Format"/>).</summary>
internal enum AccessLogFormat
{
    /// <summary>nginx's <c>combined</c> format followed by ProductionServing's timing and upstream fields (<see cref="CombinedLine"/>).</summary>
    Combined,

    /// <summary>One JSON object per line with the same fields (<see cref="JsonLine"/>).</summary>
    Json,
}
