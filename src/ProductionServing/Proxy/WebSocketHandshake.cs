namespace ProductionServing.Proxy;

/// <summary>The WebSocket handshake a request makes, if any.</summary>
internal enum WebSocketHandshake
{
    /// <summary>An ordinary request.</summary>
    None,

    /// <summary>HTTP/1.1 <c>Upgrade: websocket</c> (RFC 6455 §4).</summary>
    Upgrade,

    /// <summary>HTTP/2 (or HTTP/3) extended CONNECT with <c>:protocol websocket</c> (RFC 8441, RFC 9220).</summary>
    ExtendedConnect,
}
