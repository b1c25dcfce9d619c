namespace ProductionServing.Proxy;

/// <summary>A side of a WebSocket tunnel.</summary>
internal enum TunnelSide
{
    Client,
    Upstream,
}
