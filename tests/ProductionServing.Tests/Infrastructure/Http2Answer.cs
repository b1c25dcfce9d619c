namespace ProductionServing.Tests.Infrastructure;

/// <summary>How a server answered one HTTP/2 request: a status, or a reset or GOAWAY with its error code (RFC 9113 §7).</summary>
internal readonly record struct Http2Answer(int Status, bool GoAway, uint ErrorCode);
